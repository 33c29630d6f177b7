// A progress line on a terminal's stderr for long scans; nothing when stderr is not a terminal.

export interface Progress {
  /** The records expected (an estimate). */
  total(n: number): void;
  /** Records done so far; redraws at most every 200 ms. */
  update(n: number): void;
  /** Clears the line. */
  done(): void;
}

const WIDTH = 30;

/** A progress bar on `stream` when it is a TTY, else one that does nothing. */
export function progressBar(stream: NodeJS.WriteStream): Progress {
  const nothing = () => undefined;
  if (!stream.isTTY) return { total: nothing, update: nothing, done: nothing };
  let total = 0;
  let drawnAt = 0;
  let drawn = false;
  return {
    total(n) {
      total = n;
    },
    update(n) {
      const now = Date.now();
      if (now - drawnAt < 200) return;
      drawnAt = now;
      drawn = true;
      const share = total > 0 ? Math.min(1, n / total) : 0;
      const filled = Math.round(share * WIDTH);
      const bar = `${"#".repeat(filled)}${"-".repeat(WIDTH - filled)}`;
      stream.write(
        `\rverify [${bar}] ${n.toLocaleString("en")} / ~${total.toLocaleString("en")} records`,
      );
    },
    done() {
      if (drawn) stream.write("\r\x1b[2K");
      drawn = false;
    },
  };
}

// `durability: "disk"`: the producer stream kept in the spool directory (`STREAM`), so a
// restart on the same spool continues the stream and never gives an `n` twice.
import {
  closeSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../../shared/util/logger.js";
import type { LossRange } from "../../shared/wire/stream.js";
import type { ProducerStream } from "./stream.js";

/** Numbers reserved ahead per write of the file: one durable write per this many records. */
const RESERVE_BLOCK = 4096;

/** What `STREAM` holds. */
interface StreamState {
  id: string;
  /** No `n` up to this one may be given again: given, or reserved ahead. */
  reserved: number;
  /** The high-water mark when the file was written. */
  hwm: number;
  /** Written by close(): `reserved` equals `hwm`, nothing was reserved ahead. */
  clean: boolean;
  /** close() sent the end of the stream: the next process starts a new one. */
  ended: boolean;
}

const FILE = "STREAM";

function parse(text: string): StreamState | undefined {
  const v = JSON.parse(text) as Partial<StreamState>;
  const count = (x: unknown) => Number.isSafeInteger(x) && (x as number) >= 0;
  if (typeof v.id !== "string" || !count(v.reserved) || !count(v.hwm)) return undefined;
  return {
    id: v.id,
    reserved: v.reserved as number,
    hwm: v.hwm as number,
    clean: v.clean === true,
    ended: v.ended === true,
  };
}

/** Writes `text` to `path` through a temporary file, fsynced, then renamed over it. */
function writeDurably(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Writes and fsyncs `path` (a temporary file) off the event loop. */
async function writeFile(path: string, text: string): Promise<void> {
  const file = await open(path, "w", 0o600);
  try {
    await file.writeFile(text);
    await file.sync();
  } finally {
    await file.close();
  }
}

/**
 * The stream's file in one spool slot. `open()` resumes the stream the file names (unless it
 * ended, or records were numbered before the spool opened) and reserves a block of numbers;
 * each next block is reserved in the background when half of the current one is used, or at
 * once (synchronously) when numbering catches up with the reservation first.
 */
export class StreamFile {
  private readonly path: string;
  private reserved = 0;
  private reserving = false;

  constructor(
    dir: string,
    private readonly stream: ProducerStream,
    private readonly logger: Logger,
  ) {
    this.path = join(dir, FILE);
  }

  /** Resumes the stream on file, if any, and reserves the first block. */
  open(): void {
    const state = this.read();
    if (state && !state.ended) {
      // After a crash the numbers reserved above the last known mark may have been given to
      // records that never reached the spool: they are stated lost (some may yet be stored).
      const lost: LossRange[] =
        !state.clean && state.reserved > state.hwm
          ? [{ from: state.hwm + 1, to: state.reserved, reason: "spool-lost" }]
          : [];
      if (!this.stream.resume(state.id, state.reserved, lost)) {
        this.logger.warn(
          { stream: state.id },
          "auditq: records were captured before the spool opened; a new stream replaces the spool's",
        );
      }
    }
    this.reserveSync(this.stream.hwm + RESERVE_BLOCK);
    this.rewatch();
  }

  /** At close: the exact high-water mark, so the next start continues without a loss. */
  close(ended: boolean): void {
    // A reservation still being written ahead must not land after this.
    this.reserved = Number.MAX_SAFE_INTEGER;
    try {
      if (ended) {
        unlinkSync(this.path);
        return;
      }
      this.write({ reserved: this.stream.hwm, clean: true, ended: false });
    } catch (err) {
      this.logger.warn({ err }, "auditq: could not update the spool's STREAM file at close");
    }
  }

  private passed(n: number): void {
    if (n > this.reserved) {
      // Numbering overtook the background write: reserve now, before the number is used.
      this.reserveSync(n + RESERVE_BLOCK);
    } else if (!this.reserving) {
      this.reserveAhead(this.reserved + RESERVE_BLOCK);
    }
    this.rewatch();
  }

  /** Half a block before the reservation's end (or at its end while a write is under way). */
  private rewatch(): void {
    const at = this.reserving ? this.reserved : this.reserved - RESERVE_BLOCK / 2;
    this.stream.watchReservation(at, (n) => this.passed(n));
  }

  /** Writes the next reservation off the event loop; renamed in place only if still ahead. */
  private reserveAhead(upTo: number): void {
    this.reserving = true;
    const tmp = `${this.path}.tmp-ahead`;
    writeFile(tmp, this.text({ reserved: upTo, clean: false, ended: false }))
      .then(() => {
        // Synchronously, so no reservation made meanwhile on the event loop is overwritten.
        if (upTo > this.reserved) {
          renameSync(tmp, this.path);
          this.reserved = upTo;
        }
      })
      .catch((err: unknown) => {
        // The next pass reserves synchronously instead.
        this.logger.warn({ err }, "auditq: could not reserve stream numbers ahead");
      })
      .finally(() => {
        this.reserving = false;
        this.rewatch();
      });
  }

  private reserveSync(upTo: number): void {
    try {
      this.write({ reserved: upTo, clean: false, ended: false });
      this.reserved = upTo;
    } catch (err) {
      // Numbers keep being given: a restart may then reuse some (logged, not thrown at add()).
      this.logger.warn({ err }, "auditq: could not reserve stream numbers in the spool");
      this.reserved = upTo;
    }
  }

  private text(s: Pick<StreamState, "reserved" | "clean" | "ended">): string {
    const state: StreamState = { id: this.stream.id, hwm: this.stream.hwm, ...s };
    return JSON.stringify(state);
  }

  private write(s: Pick<StreamState, "reserved" | "clean" | "ended">): void {
    writeDurably(this.path, this.text(s));
  }

  private read(): StreamState | undefined {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      this.logger.warn({ err }, "auditq: cannot read the spool's STREAM file; a new stream starts");
      return undefined;
    }
    try {
      return parse(text);
    } catch (err) {
      this.logger.warn({ err }, "auditq: the spool's STREAM file is corrupt; a new stream starts");
      return undefined;
    }
  }
}

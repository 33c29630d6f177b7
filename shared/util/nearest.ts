// "Did you mean": the known name nearest to one that is not known, by spelling (a typo) or by
// meaning (an alias an option row lists: another tool's word for the same setting).

/** A name that can be suggested, with the other names that should lead to it. */
export interface Candidate {
  readonly name: string;
  /** Names close in meaning, not in spelling (`AUDITQ_MONGO_URI` for `AUDITQ_MONGODB_URI`). */
  readonly aliases?: readonly string[] | undefined;
}

/** Levenshtein distance between `a` and `b`. */
export function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(
        Math.min(
          (prev[j] as number) + 1,
          (row[j - 1] as number) + 1,
          (prev[j - 1] as number) + cost,
        ),
      );
    }
    prev = row;
  }
  return prev[b.length] as number;
}

/** How far a name may be from a candidate and still be taken for it. */
export type Tolerance = "strict" | "loose";

/**
 * Typos a name of `length` characters may carry and still count as a misspelling. `strict`
 * (where a match turns into an error): 1 up to 9 characters, 2 up to 14, then one more each 5;
 * `AUDITQ_MAX_WRITE_RAT` is one off, the project's own `AUDITQ_TEST_MONGODB_URI` (five off
 * `AUDITQ_MONGODB_URI`) is no misspelling. `loose` (a hint on what is refused anyway): a quarter.
 */
function tolerance(length: number, how: Tolerance): number {
  return how === "strict"
    ? Math.max(1, Math.floor(length / 5))
    : Math.max(2, Math.ceil(length / 4));
}

/**
 * The candidate `name` is a misspelling or an alias of; undefined when none is near. Compares
 * without case (`lingerMS` finds `lingerMs`), and without `prefix` when both start with it (the
 * shared `AUDITQ_` says nothing about which setting was meant).
 */
export function nearest(
  name: string,
  candidates: readonly Candidate[],
  { prefix = "", how = "loose" }: { prefix?: string; how?: Tolerance } = {},
): string | undefined {
  const lowPrefix = prefix.toLowerCase();
  const bare = (s: string) => {
    const low = s.toLowerCase();
    return low.startsWith(lowPrefix) ? low.slice(lowPrefix.length) : low;
  };
  const wanted = bare(name);
  for (const c of candidates) {
    if (c.aliases?.some((alias) => bare(alias) === wanted)) return c.name;
  }
  let best: string | undefined;
  let bestDistance = tolerance(wanted.length, how) + 1;
  for (const c of candidates) {
    const d = distance(wanted, bare(c.name));
    if (d < bestDistance) {
      best = c.name;
      bestDistance = d;
    }
  }
  return best;
}

/** `"; did you mean X?"`, or `""` when there is nothing to suggest. */
export function didYouMean(near: string | undefined): string {
  return near === undefined ? "" : `; did you mean ${near}?`;
}

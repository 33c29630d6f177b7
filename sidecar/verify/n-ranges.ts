// A packed digest's `n`: its records' stream numbers as ranges, a flat list of first and last
// pairs (`[1, 500]` for the numbers 1 to 500). A message holds one producer's records in order,
// so its numbers are one run in practice: two numbers instead of one per record. Flat because
// FerretDB refuses nested arrays.

/** Ranges of `ns` (sorted ascending): each run of consecutive numbers as its first and last. */
export function toRanges(ns: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < ns.length; i++) {
    const first = ns[i] as number;
    while (i + 1 < ns.length && ns[i + 1] === (ns[i] as number) + 1) i++;
    out.push(first, ns[i] as number);
  }
  return out;
}

/**
 * The numbers `ranges` stand for, when they are `count` whole numbers in ascending order: pairs of
 * safe integers (numbers, or BSON numbers as EXACT_READ returns them), each first ≤ its last and
 * not below the last before it (records of one number twice in a message are two runs). A
 * description of what is wrong otherwise.
 */
export function fromRanges(ranges: unknown, count: number): number[] | string {
  if (!Array.isArray(ranges) || ranges.length % 2 !== 0) return "n is not a list of ranges";
  const out: number[] = [];
  let last = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < ranges.length; i += 2) {
    const first = Number(ranges[i]);
    const end = Number(ranges[i + 1]);
    if (!isNumber(ranges[i]) || !isNumber(ranges[i + 1]) || !Number.isSafeInteger(first)) {
      return "n's ranges are not whole numbers";
    }
    if (!Number.isSafeInteger(end) || end < first || first < last) {
      return "n's ranges are not in ascending order";
    }
    if (out.length + (end - first + 1) > count) return "n's ranges hold more numbers than ids";
    for (let n = first; n <= end; n++) out.push(n);
    last = end;
  }
  if (out.length !== count) return "n's ranges hold fewer numbers than ids";
  return out;
}

/** A JS number, or a BSON number as a read with `promoteValues: false` gives it. */
function isNumber(value: unknown): boolean {
  if (typeof value === "number") return true;
  const type = (value as { _bsontype?: unknown } | null)?._bsontype;
  return type === "Int32" || type === "Double" || type === "Long";
}

// How large a bulk is under a write rate: as small as a smooth rate needs, no smaller.
// Small enough that the rate is smooth over a few seconds (what the fleet's budget is measured
// on), large enough that slow writes do not hold it back.

/**
 * Seconds of writing at the share that the token bucket holds (a bulk is half of it when MongoDB
 * answers quickly). A bucket of a whole second let a member write one second of its share at once
 * (at start, or after a pause): with 1-second bulks, a 5 s window could see 6 seconds of writing,
 * 20 % over the budget. A quarter second bounds that to 5 %.
 */
const BULK_INTERVAL_SECONDS = 0.25;

/** Head room on the latency-bound size: the slots in flight carry a little more than the share. */
const LATENCY_HEADROOM = 1.25;

/**
 * Tokens a bucket at `ratePerSecond` holds: a quarter second of writing, at most `bulkSize`
 * (at least 1). A bulk waits for at most this many tokens, so no burst is larger.
 */
export function bucketCapacity(bulkSize: number, ratePerSecond: number): number {
  return Math.max(1, Math.floor(Math.min(bulkSize, ratePerSecond * BULK_INTERVAL_SECONDS)));
}

export interface PacingState {
  /** Records per second this sidecar may write; 0 = no limit. */
  ratePerSecond: number;
  /** Its bucket's capacity (bucketCapacity). */
  capacity: number;
  /** The typical insertMany latency lately (the concurrency limiter's baseline), if known. */
  latencyMs: number | undefined;
  /** insertMany calls allowed in flight now. */
  concurrency: number;
}

/**
 * Records in the next bulk, at most `bulkSize`. Without a rate, `bulkSize`. With one, half the
 * bucket's capacity: a bulk as large as the bucket would be let through the moment the bucket is full,
 * so every millisecond the writer wakes late (a busy event loop) would be lost rate; with half,
 * it may be an eighth of a second late for nothing. Larger only when MongoDB is so slow that
 * `concurrency` bulks in flight could not carry the rate: then the size that can (rate × latency
 * / concurrency, with head room). A bulk above the capacity spends its tokens in debt, so the
 * long-run rate stays exact; its writes are then spread by their latency.
 */
export function bulkLimit(bulkSize: number, s: PacingState): number {
  if (s.ratePerSecond <= 0) return bulkSize;
  const carried =
    s.latencyMs === undefined
      ? 0
      : Math.ceil(
          (s.ratePerSecond * (s.latencyMs / 1000) * LATENCY_HEADROOM) / Math.max(1, s.concurrency),
        );
  return Math.max(1, Math.min(bulkSize, Math.max(Math.floor(s.capacity / 2), carried)));
}

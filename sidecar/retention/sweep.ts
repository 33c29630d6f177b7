// One retention sweep: computes the cut-off once, then deletes the records below it that no hold
// matches, oldest first, in batches paid for from the sidecar's write budget like inserts.
import { ObjectId } from "bson";
import type { RateLimiter } from "../write/rate-limiter.js";
import type { SweepStore } from "./sweep-store.js";

const DAY_MS = 86_400_000;

/** The cut-off of a sweep at `now` (ms): the smallest ObjectId of the second `days` before. */
export function cutoffAt(now: number, days: number): ObjectId {
  return ObjectId.createFromTime(Math.floor((now - days * DAY_MS) / 1000));
}

/**
 * Records per batch: the token bucket's capacity under a write rate, so that a batch never goes
 * into debt and the sweep adds no burst beyond what inserts may take (a quarter second of the
 * share); `bulkSize` without a rate.
 */
export function batchSize(
  bulkSize: number,
  rate: Pick<RateLimiter, "ratePerSecond" | "capacity">,
): number {
  if (rate.ratePerSecond <= 0) return bulkSize;
  return Math.max(1, Math.min(bulkSize, Math.floor(rate.capacity)));
}

export interface SweepDeps {
  store: SweepStore;
  /** The write stage's token bucket: a deletion of k records spends k tokens of it. */
  rate: Pick<RateLimiter, "spend" | "ratePerSecond" | "capacity">;
  bulkSize: number;
  retentionDays: number;
  /** Whether this sidecar still holds the sweeper lease (renewing it when due). */
  keepLease(): Promise<boolean>;
  /** Called after each batch with the records it deleted. */
  onBatch(deleted: number): void;
}

export interface SweepResult {
  sweep: ObjectId;
  cutoff: ObjectId;
  /** Records this run deleted (a resumed sweep's document counts earlier runs too). */
  deleted: number;
  batches: number;
  /** "done": nothing left below the cut-off; else why it stopped early (it resumes next time). */
  end: "done" | "stopped" | "lease-lost";
}

/**
 * Runs one sweep until nothing is left below the cut-off, `signal` aborts, or the lease is lost.
 * Nothing at or above the cut-off is ever deleted: every deletion's filter has it as its upper
 * bound, and a sweep cut short (a crash) is resumed with its stored cut-off.
 */
export async function sweep(d: SweepDeps, now: number, signal: AbortSignal): Promise<SweepResult> {
  const { store, rate } = d;
  const doc = await store.begin(cutoffAt(now, d.retentionDays));
  const { cutoff } = doc;
  const result: SweepResult = { sweep: doc._id, cutoff, deleted: 0, batches: 0, end: "done" };
  const size = () => batchSize(d.bulkSize, rate);
  const candidates = store.candidates(cutoff, await store.holds(), size());
  try {
    for (;;) {
      const ids = await candidates.next(size());
      const first = ids[0];
      const last = ids.at(-1);
      if (first === undefined || last === undefined) break;
      // Read again for every batch: a hold placed during a sweep counts from its next batch.
      const holds = await store.holds();
      if (!(await d.keepLease())) {
        result.end = "lease-lost";
        break;
      }
      if (!(await rate.spend(ids.length, signal))) {
        result.end = "stopped";
        break;
      }
      const deleted = await store.deleteBatch(first, last, cutoff, holds);
      // More than found: records were written into the range since (a redelivery of old ones,
      // or a hold lifted); their deletion is paid too, after the fact.
      if (deleted > ids.length) await rate.spend(deleted - ids.length);
      result.deleted += deleted;
      result.batches += 1;
      await store.progress(doc._id, deleted);
      d.onBatch(deleted);
      if (signal.aborted) {
        result.end = "stopped";
        break;
      }
    }
  } finally {
    await candidates.close();
  }
  if (result.end === "done") await store.finish(doc._id);
  return result;
}

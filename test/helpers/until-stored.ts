// Polls, until a deadline, for a test's database to hold a given number of records and
// quarantine entries with its queue empty: everything sent so far is stored or quarantined.
import { type TestDb, type TestQueue, waitFor } from "./services.js";

export interface StoredCounts {
  /** Documents in `records`. */
  records: number;
  /** Documents in `records_quarantine`. */
  quarantined: number;
}

/**
 * Resolves once `records` and `records_quarantine` hold exactly `counts` and the queue has no
 * message visible or in flight; throws after waitFor's deadline (30 s) with the last counts.
 */
export function untilStored(
  on: { readonly queue: TestQueue; readonly mongo: TestDb },
  counts: StoredCounts,
  what = `${counts.records} records stored, ${counts.quarantined} quarantined, an empty queue`,
) {
  return waitFor(
    what,
    async () => ({
      records: await on.mongo.db.collection("records").countDocuments(),
      quarantined: await on.mongo.db.collection("records_quarantine").countDocuments(),
      queue: await on.queue.depth(),
    }),
    (s) =>
      s.records === counts.records &&
      s.quarantined === counts.quarantined &&
      s.queue.visible + s.queue.inflight === 0,
  );
}

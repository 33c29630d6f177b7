// kill -9 of the sidecar process in the middle of a retention sweep: nothing newer than the
// cut-off is lost, nothing on hold, and the next sidecar resumes the same sweep and finishes it.
import { describe, expect, it } from "vitest";
import { createHolds } from "../../../sidecar/index.js";
import { heldByTestHolds, seedRecords, TEST_HOLDS } from "../../helpers/retention-records.js";
import { type SqsTarget, sqsTargets, waitFor } from "../../helpers/services.js";
import { useSidecarRig } from "../../helpers/sidecar-rig.js";

const target = sqsTargets()[0] as SqsTarget;
const BUDGET = 200;

describe(`retention sweep under kill -9 (${target.name})`, () => {
  const rig = useSidecarRig(target);

  it("loses nothing newer than the cut-off and the next sweep finishes the job", async () => {
    const { db } = rig.mongo;
    const records = db.collection("records");
    const sweeps = db.collection("records_retention");
    const docs = await seedRecords(records, { old: 2_000, fresh: 500 });
    const holds = createHolds(db);
    for (const h of TEST_HOLDS) await holds.add(h);
    const expired = docs.slice(0, 2_000).filter((d) => !heldByTestHolds(d));
    const kept = docs.filter((d) => !expired.includes(d)).map((d) => String(d._id));
    const env = {
      AUDITQ_RETENTION_DAYS: "30",
      AUDITQ_RETENTION_INTERVAL_MS: "1000",
      AUDITQ_MAX_WRITE_RATE: String(BUDGET),
      // Short, so that the killed holder's lease lapses soon for the next sidecar.
      AUDITQ_LEASE_LIFETIME_MS: "2000",
      AUDITQ_WAIT_TIME_SECONDS: "1",
    };
    const stored = async () =>
      new Set(
        (await records.find({}, { projection: { _id: 1 } }).toArray()).map((d) => String(d._id)),
      );

    const first = await rig.spawn(env);
    const midway = await waitFor(
      "a sweep a few hundred records in",
      () => sweeps.findOne({}),
      (s) => (s?.deleted ?? 0) >= 300,
      { timeoutMs: 60_000, intervalMs: 50 },
    );
    first.cli.child.kill("SIGKILL");
    expect((await first.cli.exited).signal).toBe("SIGKILL");

    // Cut short: unfinished, some old records left, and every record it must keep still there.
    const afterKill = await stored();
    const crashed = await sweeps.findOne({ _id: midway?._id });
    expect(
      crashed,
      JSON.stringify({ midway, all: await sweeps.find({}).toArray() }),
    ).not.toBeNull();
    expect(crashed?.finishedAt).toBeNull();
    expect(afterKill.size).toBeGreaterThan(kept.length);
    expect(kept.filter((id) => !afterKill.has(id))).toEqual([]);

    // The next sidecar takes the lapsed lease, resumes the same sweep at the same cut-off.
    await rig.spawn(env);
    const finished = await waitFor(
      "the same sweep finished",
      () => sweeps.find({}).toArray(),
      (s) => s.some((x) => x.finishedAt instanceof Date),
      { timeoutMs: 120_000, intervalMs: 200 },
    );
    expect(finished).toHaveLength(1);
    const [sweep] = finished;
    expect(String(sweep?._id)).toBe(String(midway?._id));
    expect(String(sweep?.cutoff)).toBe(String(midway?.cutoff));
    expect([...(await stored())].sort()).toEqual([...kept].sort());
    // Each batch adds to `deleted` once deleted: a kill between the two may leave one batch
    // (a quarter second of the budget) uncounted, never more.
    expect(sweep?.deleted).toBeLessThanOrEqual(expired.length);
    expect(sweep?.deleted).toBeGreaterThanOrEqual(expired.length - BUDGET / 4);
  }, 240_000);
});

// Hostile lease documents beside a real sidecar: anyone with write access to the lease collection
// plants leases that are far in the future, carry a tiny budget, or have the wrong types.
import { describe, expect, it } from "vitest";
import { type SqsTarget, sqsTargets, waitFor } from "../helpers/services.js";
import { useSidecarRig } from "../helpers/sidecar-rig.js";

const target = sqsTargets()[0] as SqsTarget;
const BUDGET = 100;
const LIFETIME = 2_000;

describe(`fleet leases as written by someone else (${target.name})`, () => {
  const rig = useSidecarRig(target);
  /** A lease document as anyone may write it. */
  type Written = { _id: string | number; [field: string]: unknown };
  const leases = () => rig.mongo.db.collection<Written>("sidecar_leases");

  /** The server's clock, read the way leases are stamped ($currentDate). */
  async function serverNow(): Promise<number> {
    const clock = rig.mongo.db.collection<{ _id: string; at?: Date }>("clock");
    await clock.updateOne({ _id: "now" }, { $currentDate: { at: true } }, { upsert: true });
    const doc = await clock.findOneAndDelete({ _id: "now" });
    if (!(doc?.at instanceof Date)) throw new Error(`no server time in ${JSON.stringify(doc)}`);
    return doc.at.getTime();
  }

  const valid = (id: string, over: Record<string, unknown>): Written => ({
    _id: id,
    scope: "records",
    budget: BUDGET,
    claim: null,
    lifetimeMs: 6_000,
    host: "elsewhere",
    pid: 1,
    ...over,
  });

  async function fleetState() {
    return {
      ready: rig.sidecar.isReady(),
      share: await rig.metric("auditq_sidecar_write_share_records_per_second"),
      budget: await rig.metric("auditq_sidecar_fleet_budget_records_per_second"),
      members: await rig.metric("auditq_sidecar_fleet_members"),
      invalid: await rig.metric("auditq_sidecar_fleet_invalid_leases_total"),
    };
  }

  it("ignores far-future leases and a tiny budget, and deletes the far-future ones", async () => {
    const now = await serverNow();
    const farFuture = Array.from({ length: 10 }, (_, i) =>
      valid(`future-${i}`, { renewedAt: new Date(now + 3_600_000) }),
    );
    // Live and well-formed but for its budget, and claiming a lifetime of ten minutes.
    const tiny = valid("tiny-budget", {
      budget: 0.01,
      claim: 0,
      lifetimeMs: 600_000,
      renewedAt: new Date(now),
    });
    await leases().insertMany([...farFuture, tiny]);
    await rig.start({ maxWriteRate: BUDGET, leaseLifetimeMs: LIFETIME });
    const first = await waitFor("ready", fleetState, (s) => s.ready);
    expect(first.budget).toBe(BUDGET);
    expect(first.invalid).toBeGreaterThanOrEqual(10);
    // The tiny lease is never renewed: it lapses by this sidecar's own lifetime, not its ten
    // minutes, and keeps a floor for one more lifetime (its member may be slow rather than dead).
    const alone = await waitFor(
      "alone with the whole budget",
      fleetState,
      (s) => s.members === 1 && s.share === BUDGET,
    );
    expect(alone).toMatchObject({ ready: true, share: BUDGET, budget: BUDGET });
    await waitFor(
      "the far-future leases deleted",
      () => leases().countDocuments({ _id: { $regex: "^future-" } }),
      (n) => n === 0,
    );
  });

  it("becomes ready with the whole budget beside leases of the wrong types", async () => {
    const now = new Date(await serverNow());
    await leases().insertMany([
      valid("string-date", { renewedAt: "2099-01-01T00:00:00Z" }),
      valid("number-date", { renewedAt: now.getTime() }),
      valid("string-budget", { renewedAt: now, budget: "100" }),
      valid("string-claim", { renewedAt: now, claim: "everything" }),
      valid("negative-lifetime", { renewedAt: now, lifetimeMs: -1 }),
      { ...valid("x", { renewedAt: now }), _id: 42 },
    ]);
    await rig.start({ maxWriteRate: BUDGET, leaseLifetimeMs: LIFETIME });
    const state = await waitFor("ready", fleetState, (s) => s.ready, { timeoutMs: 20_000 });
    expect(state).toMatchObject({ share: BUDGET, budget: BUDGET, members: 1 });
    expect(state.invalid).toBeGreaterThanOrEqual(6);
  });
});

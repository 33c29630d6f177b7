// The lease protocol at its limits, on real FerretDB with a real FleetMembership: a fleet larger
// than the old per-renewal read (1,000 leases), and renewals slower than the lifetime.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FleetMembership, type LeaseDoc } from "../../sidecar/fleet/lease.js";
import { FLOOR_FRACTION } from "../../sidecar/fleet/share.js";
import { quietFleetMetrics } from "../helpers/fleet-metrics.js";
import { silentLogger } from "../helpers/logger.js";
import { createTestDb, type TestDb, waitFor } from "../helpers/services.js";

const BUDGET = 11_000;
const OTHERS = 1_099;

describe("fleet leases at the protocol's limits", () => {
  let t: TestDb;
  beforeEach(async () => {
    t = await createTestDb();
  });
  afterEach(async () => {
    await t.dispose();
  });

  /** The server's clock, as leases are stamped ($currentDate). */
  async function serverNow(): Promise<Date> {
    const clock = t.db.collection<{ _id: string; at?: Date }>("clock");
    await clock.updateOne({ _id: "now" }, { $currentDate: { at: true } }, { upsert: true });
    const doc = await clock.findOneAndDelete({ _id: "now" });
    if (!(doc?.at instanceof Date)) throw new Error(`no server time in ${JSON.stringify(doc)}`);
    return doc.at;
  }

  function member(lifetimeMs: number, shares: number[]): FleetMembership {
    return new FleetMembership({
      leases: t.db.collection<LeaseDoc>("sidecar_leases"),
      scope: "records",
      budget: BUDGET,
      lifetimeMs,
      deadline: (_op, work) => work,
      metrics: quietFleetMetrics,
      logger: silentLogger,
      demand: () => null,
      onShare: (s) => shares.push(s),
    });
  }

  const busyLease = (id: string, renewedAt: Date, lifetimeMs: number): LeaseDoc => ({
    _id: id,
    scope: "records",
    budget: BUDGET,
    claim: null,
    lifetimeMs,
    renewedAt,
    host: "elsewhere",
    pid: 1,
  });

  it("splits the budget among every live lease, read or not", async () => {
    const leases = t.db.collection<LeaseDoc>("sidecar_leases");
    // Stamped with the server's clock: the member judges liveness by it.
    const now = await serverNow();
    await leases.insertMany(
      Array.from({ length: OTHERS }, (_, i) =>
        busyLease(`other-${String(i).padStart(4, "0")}`, now, 60_000),
      ),
    );
    const shares: number[] = [];
    await member(60_000, shares).renew();
    // The first member writes the split, counting all 1,100 (reading 1,000 leases gave 1/1,001),
    // but starts at its floor: a twentieth of an equal share among the live leases and itself.
    expect(shares).toEqual([(BUDGET / (OTHERS + 2)) * FLOOR_FRACTION]);
    // The next one is not counted yet either: the same floor, among 1,101 live leases.
    const next: number[] = [];
    await member(60_000, next).renew();
    expect(next).toEqual([(BUDGET / (OTHERS + 2)) * FLOOR_FRACTION]);
  }, 60_000);

  it("keeps a floor for a lease that lapsed, which its own member keeps to when it renews late", async () => {
    const LIFETIME = 3_000;
    const floor = (BUDGET / 2) * FLOOR_FRACTION;
    const a: number[] = [];
    const b: number[] = [];
    const ma = member(LIFETIME, a);
    const mb = member(LIFETIME, b);
    await ma.renew(); // writes the split
    await mb.renew();
    await ma.renew();
    const leases = t.db.collection<LeaseDoc>("sidecar_leases");
    const last = (await leases.findOne({ _id: mb.id }))?.renewedAt as Date;
    // b is late: more than a lifetime after its last renewal, so its lease lapsed meanwhile.
    await waitFor("a lifetime on the server's clock", serverNow, (at) => {
      return at.getTime() > last.getTime() + LIFETIME + 50;
    });
    await ma.renew();
    // a's split keeps b's floor: b may be slow rather than dead.
    expect(a.at(-1)).toBeCloseTo(BUDGET - floor, 6);
    await mb.renew();
    // b renewed late: the split a wrote did not count it, so it takes no more than that floor.
    expect(b.at(-1)).toBeLessThanOrEqual(floor);
    expect((a.at(-1) as number) + (b.at(-1) as number)).toBeLessThanOrEqual(BUDGET);
    // On time again, both split the budget.
    await ma.renew();
    await mb.renew();
    await ma.renew();
    await mb.renew();
    expect(a.at(-1)).toBeCloseTo(BUDGET / 2, 6);
    expect(b.at(-1)).toBeCloseTo(BUDGET / 2, 6);
  }, 60_000);
});

// The lease protocol at its limits, on real FerretDB with a real FleetMembership: a fleet larger
// than one renewal reads (MAX_LEASES_READ = 1,000 leases), and renewals slower than the lifetime.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Logger } from "../../shared/util/logger.js";
import type { SidecarMetrics } from "../../sidecar/config/metrics.js";
import { FleetMembership, type LeaseDoc } from "../../sidecar/fleet/lease.js";
import { FLOOR_FRACTION } from "../../sidecar/fleet/share.js";
import { createTestDb, type TestDb, waitFor } from "../helpers/services.js";

const BUDGET = 11_000;
const OTHERS = 1_099;

const quiet = { inc: () => undefined, set: () => undefined };
const metrics = {
  errors: quiet,
  fleetInvalidLeases: quiet,
  fleetMembers: quiet,
  fleetBudget: quiet,
} as unknown as SidecarMetrics;
const logger = { info: () => undefined, warn: () => undefined } as unknown as Logger;

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
      metrics,
      logger,
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
    // A first renewal is granted the floor only (its claim applies once the others saw it): a
    // twentieth of an equal share among all 1,100 members. Reading 1,000 leases gave 1/1,001.
    expect(shares).toEqual([(BUDGET / (OTHERS + 1)) * FLOOR_FRACTION]);
  }, 60_000);

  it("keeps a lease that lapsed while its own renewal was late, until a renewal is on time", async () => {
    const LIFETIME = 3_000;
    const leases = t.db.collection<LeaseDoc>("sidecar_leases");
    const shares: number[] = [];
    const m = member(LIFETIME, shares);
    await leases.insertOne(busyLease("slow-other", await serverNow(), LIFETIME));
    await m.renew();
    const first = (await leases.findOne({ _id: m.id }))?.renewedAt as Date;
    // Late: more than a lifetime after the first renewal, so the other lease lapsed meanwhile.
    await waitFor("a lifetime on the server's clock", serverNow, (at) => {
      return at.getTime() > first.getTime() + LIFETIME + 50;
    });
    await m.renew();
    // Its claim (busy) is granted: nobody live is left to see it. The other still counts.
    expect(shares.at(-1)).toBe(BUDGET / 2);
    // On time again (well within a lifetime of the last): the lapsed lease is dropped.
    await m.renew();
    expect(shares.at(-1)).toBe(BUDGET);
  }, 60_000);
});

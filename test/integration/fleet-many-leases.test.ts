// A fleet larger than one renewal reads (MAX_LEASES_READ = 1,000 leases): the member's share must
// be its part of the whole fleet, not of the 1,000 it read. Real FerretDB, real FleetMembership.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Logger } from "../../shared/util/logger.js";
import type { SidecarMetrics } from "../../sidecar/config/metrics.js";
import { FleetMembership, type LeaseDoc } from "../../sidecar/fleet/lease.js";
import { FLOOR_FRACTION } from "../../sidecar/fleet/share.js";
import { createTestDb, type TestDb } from "../helpers/services.js";

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

describe("a fleet of more leases than one renewal reads", () => {
  let t: TestDb;
  beforeEach(async () => {
    t = await createTestDb();
  });
  afterEach(async () => {
    await t.dispose();
  });

  it("splits the budget among every live lease, read or not", async () => {
    const leases = t.db.collection<LeaseDoc>("sidecar_leases");
    // Stamp the others with the server's clock: the member judges liveness by it.
    await leases.updateOne(
      { _id: "clock" },
      { $currentDate: { renewedAt: true } },
      { upsert: true },
    );
    const clock = await leases.findOneAndDelete({ _id: "clock" });
    const now = clock?.renewedAt as Date;
    await leases.insertMany(
      Array.from({ length: OTHERS }, (_, i) => ({
        _id: `other-${String(i).padStart(4, "0")}`,
        scope: "records",
        budget: BUDGET,
        claim: null,
        lifetimeMs: 60_000,
        renewedAt: now,
        host: "elsewhere",
        pid: 1,
      })),
    );
    const shares: number[] = [];
    const member = new FleetMembership({
      leases,
      scope: "records",
      budget: BUDGET,
      lifetimeMs: 60_000,
      deadline: (_op, work) => work,
      metrics,
      logger,
      demand: () => null,
      onShare: (s) => shares.push(s),
    });
    await member.renew();
    // A first renewal is granted the floor only (its claim applies once the others saw it): a
    // twentieth of an equal share among all 1,100 members. Reading 1,000 leases gave 1/1,001.
    expect(shares).toEqual([(BUDGET / (OTHERS + 1)) * FLOOR_FRACTION]);
  }, 60_000);
});

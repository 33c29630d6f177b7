// The two-level split on real FerretDB with real FleetMembership objects: every member writes its
// own lease and reads one split document; one elected member reads all the leases and writes it.
import type { Collection } from "mongodb";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FleetMembership, type LeaseDoc } from "../../sidecar/fleet/lease.js";
import { type Claim, FLOOR_FRACTION } from "../../sidecar/fleet/share.js";
import { quietFleetMetrics } from "../helpers/fleet-metrics.js";
import { silentLogger } from "../helpers/logger.js";
import { createTestDb, type TestDb, waitFor } from "../helpers/services.js";

const BUDGET = 1_000;
/** Long enough that a round of 20 renewals on a busy machine stays well within it. */
const LIFETIME = 10_000;

/** A member whose claim the test sets, and whose share it reads. */
interface TestMember {
  fm: FleetMembership;
  claim: Claim;
  share: number;
}

describe("the fleet's two-level split", () => {
  let t: TestDb;
  /** Documents returned to the members by the lease collection, all operations together. */
  let docsRead = 0;
  let leases: Collection<LeaseDoc>;
  beforeEach(async () => {
    t = await createTestDb();
    docsRead = 0;
    const raw = t.db.collection<LeaseDoc>("sidecar_leases");
    // Counts the documents each read returns (a find's whole result, one per findOne or
    // findOneAndUpdate that found one).
    leases = new Proxy(raw, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver);
        if (key === "find") {
          return (...args: unknown[]) => {
            const cursor = (value as (...a: unknown[]) => ReturnType<typeof raw.find>).apply(
              target,
              args,
            );
            return {
              limit: (n: number) => ({
                toArray: async () => {
                  const docs = await cursor.limit(n).toArray();
                  docsRead += docs.length;
                  return docs;
                },
              }),
            };
          };
        }
        if (key === "findOne" || key === "findOneAndUpdate") {
          return async (...args: unknown[]) => {
            const doc = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
            if (doc !== null) docsRead++;
            return doc;
          };
        }
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  });
  afterEach(async () => {
    await t.dispose();
  });

  function member(claim: Claim = null): TestMember {
    const m: TestMember = { claim, share: 0, fm: undefined as unknown as FleetMembership };
    m.fm = new FleetMembership({
      leases,
      scope: "records",
      budget: BUDGET,
      lifetimeMs: LIFETIME,
      deadline: (_op, work) => work,
      metrics: quietFleetMetrics,
      logger: silentLogger,
      demand: () => m.claim,
      onShare: (s) => {
        m.share = s;
      },
    });
    return m;
  }

  const total = (fleet: readonly TestMember[]) => fleet.reduce((a, m) => a + m.share, 0);

  /**
   * One renewal of each member in turn, checking after each that the fleet keeps its budget
   * (a member's first renewals add a floor each: checked apart).
   */
  async function round(fleet: readonly TestMember[], check = true): Promise<void> {
    for (const m of fleet) {
      await m.fm.renew();
      if (check) expect(total(fleet)).toBeLessThanOrEqual(BUDGET * (1 + 1e-9));
    }
  }

  /** Every member renews twice before the checked rounds: the split then counts them all. */
  async function joined(fleet: readonly TestMember[]): Promise<void> {
    await round(fleet, false);
    await round(fleet, false);
  }

  it("reads about one document per member per round, not one per pair, and splits the whole budget", async () => {
    const fleet = Array.from({ length: 20 }, () => member());
    await joined(fleet);
    docsRead = 0;
    await round(fleet);
    // Each member: its own lease back and the split document; one of them also every lease.
    // Every member reading every lease would be 20 × 20 = 400.
    expect(docsRead).toBeLessThanOrEqual(3 * fleet.length + 1);
    for (const m of fleet) expect(m.share).toBeCloseTo(BUDGET / fleet.length, 6);
  }, 60_000);

  it("gives a member the split has not counted yet only the floor", async () => {
    const fleet = [member(), member(), member()];
    await joined(fleet);
    await round(fleet);
    const late = member();
    await late.fm.renew();
    // A twentieth of an equal share, counting itself.
    expect(late.share).toBeCloseTo((BUDGET / (fleet.length + 1)) * FLOOR_FRACTION, 6);
    expect(total([...fleet, late])).toBeLessThanOrEqual(BUDGET * (1 + FLOOR_FRACTION / 4 + 1e-9));
    await round([...fleet, late], false);
    await round([...fleet, late]);
    for (const m of [...fleet, late]) expect(m.share).toBeCloseTo(BUDGET / 4, 6);
  }, 60_000);

  it("applies a lowered claim at once and a raised one only once a split has seen it", async () => {
    const [a, b] = [member(), member()];
    await joined([a, b]);
    await round([a, b]);
    expect(b.share).toBeCloseTo(BUDGET / 2, 6);
    b.claim = 100;
    await b.fm.renew();
    expect(b.share).toBeCloseTo(100, 6); // lowered: at once
    expect(a.share).toBeCloseTo(BUDGET / 2, 6); // a takes it at the next split
    await round([a, b]);
    expect(b.share).toBeCloseTo(100, 6);
    expect(a.share).toBeCloseTo(BUDGET - 100, 6);
    b.claim = null; // a raise: never applied before the others made room for it
    await round([a, b]);
    expect(b.share).toBeCloseTo(100, 6);
    for (let i = 0; i < 3; i++) await round([a, b]);
    expect(b.share).toBeCloseTo(BUDGET / 2, 6);
    expect(a.share).toBeCloseTo(BUDGET / 2, 6);
  }, 60_000);

  it("hands the split over when its writer stops, without a raise before the new split", async () => {
    const [a, b, c] = [member(), member(), member()];
    await joined([a, b, c]);
    await round([a, b, c]);
    const split = await leases.findOne({ _id: "split:records" });
    expect(split).not.toBeNull();
    const writer = [a, b, c].find(
      (m) => m.fm.id === (split as unknown as { holder: string }).holder,
    );
    expect(writer).toBeDefined();
    const rest = [a, b, c].filter((m) => m !== writer);
    // The writer stops renewing (dead): its lease and the split's lock lapse. Meanwhile the
    // others keep to the last split, and a raise waits.
    const version = (split as unknown as { version: number }).version;
    await waitFor(
      "another member writes the split",
      async () => {
        await round(rest);
        return leases.findOne({ _id: "split:records" }) as Promise<unknown>;
      },
      (s) => {
        const doc = s as { holder: string; version: number };
        return doc.holder !== writer?.fm.id && doc.version > version;
      },
      { timeoutMs: 20_000, intervalMs: 50 },
    );
    // Then the dead writer's share goes to the living within two rounds of the new split, but
    // for the floor its lapsed lease keeps for a while (it may be slow rather than dead).
    await round(rest);
    await round(rest);
    for (const m of rest) expect(m.share).toBeCloseTo((BUDGET - BUDGET / 3 / 20) / 2, 3);
  }, 60_000);

  it("rewrites a split whose lock is stamped in the future, so that a forged one cannot hold it", async () => {
    const [a, b] = [member(), member()];
    await joined([a, b]);
    const splits = t.db.collection<Record<string, unknown> & { _id: string }>("sidecar_leases");
    const real = await splits.findOne({ _id: "split:records" });
    // Valid in every field, but for a holder that does not exist, locked an hour from now, and
    // splitting as if a was alone.
    await splits.updateOne(
      { _id: "split:records" },
      {
        $set: {
          holder: "forger",
          count: 1,
          live: 1,
          floor: BUDGET * FLOOR_FRACTION,
          level: BUDGET,
          lockedAt: new Date(Date.now() + 3_600_000),
          version: (real?.version as number) + 1,
        },
      },
    );
    await round([a, b], false);
    const after = await splits.findOne({ _id: "split:records" });
    expect([a.fm.id, b.fm.id]).toContain(after?.holder);
    await round([a, b], false);
    await round([a, b]);
    for (const m of [a, b]) expect(m.share).toBeCloseTo(BUDGET / 2, 6);
  }, 60_000);
});

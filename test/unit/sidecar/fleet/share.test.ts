import { describe, expect, it } from "vitest";
import {
  claimOf,
  DEMAND_HEADROOM,
  FLOOR_FRACTION,
  looser,
  shareUnder,
  splitBudget,
  splitOf,
  THROTTLED_RAISE,
} from "../../../../sidecar/fleet/share.js";
import { prng } from "../../../helpers/prng.js";

const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

describe("splitBudget (the fleet's max-min fair split)", () => {
  it("splits equally among busy members, adding up to the budget", () => {
    const shares = splitBudget(
      400,
      ["a", "b", "c", "d"].map((id) => ({ id, claim: null })),
    );
    expect([...shares.values()]).toEqual([100, 100, 100, 100]);
  });

  it("gives an idle member only its floor, the busy ones the rest", () => {
    const shares = splitBudget(400, [
      { id: "busy1", claim: null },
      { id: "busy2", claim: null },
      { id: "idle", claim: 0 },
    ]);
    const floor = (400 / 3) * FLOOR_FRACTION;
    expect(shares.get("idle")).toBeCloseTo(floor);
    expect(shares.get("busy1")).toBeCloseTo((400 - floor) / 2);
    expect(sum(shares)).toBeCloseTo(400);
  });

  it("grants a light claim in full and splits the rest among the busy", () => {
    const shares = splitBudget(300, [
      { id: "light", claim: 50 },
      { id: "busy", claim: null },
    ]);
    expect(shares.get("light")).toBe(50);
    expect(shares.get("busy")).toBe(250);
  });

  it("caps a claim above the equal share at the equal share", () => {
    const shares = splitBudget(300, [
      { id: "a", claim: 250 },
      { id: "b", claim: null },
    ]);
    expect(shares.get("a")).toBe(150);
    expect(shares.get("b")).toBe(150);
  });

  it("spreads what nobody claims evenly, so an idle fleet keeps the whole budget", () => {
    const shares = splitBudget(100, [
      { id: "a", claim: 0 },
      { id: "b", claim: 10 },
    ]);
    expect(sum(shares)).toBeCloseTo(100);
    expect(shares.get("b")).toBeGreaterThan(shares.get("a") as number);
  });

  it("is the same whatever the order of the leases", () => {
    const members = [
      { id: "x", claim: null },
      { id: "y", claim: 12 },
      { id: "z", claim: 0 },
    ];
    expect(splitBudget(90, members)).toEqual(splitBudget(90, [...members].reverse()));
  });
});

describe("splitOf and shareUnder (the split as one document)", () => {
  it("gives every member exactly its share of splitBudget, from the level, bonus and floor alone", () => {
    const rand = prng(26);
    for (let fleet = 0; fleet < 200; fleet++) {
      const n = 1 + Math.floor(rand() * 50);
      const budget = 100 + rand() * 10_000;
      const members = Array.from({ length: n }, (_, i) => ({
        id: `m${i}`,
        claim: rand() < 0.3 ? null : rand() < 0.2 ? 0 : (rand() * 3 * budget) / n,
      }));
      const split = splitOf(budget, members);
      expect(split.count).toBe(n);
      const shares = splitBudget(budget, members);
      for (const m of members) {
        expect(shareUnder(split, m.claim)).toBeCloseTo(shares.get(m.id) as number, 6);
      }
      expect(sum(shares)).toBeCloseTo(budget, 6);
    }
  });

  it("never gives a lower claim a larger share", () => {
    const split = splitOf(1_000, [
      { id: "a", claim: null },
      { id: "b", claim: 100 },
      { id: "c", claim: 5 },
    ]);
    const claims = [0, 1, 5, 50, 100, 400, 500, 10_000, null];
    const shares = claims.map((c) => shareUnder(split, c));
    expect(shares).toEqual([...shares].sort((x, y) => x - y));
    // The busy member gets what the others leave: c asks its floor, a third of 1,000 / 20.
    expect(shareUnder(split, null)).toBeCloseTo(1_000 - 100 - 1_000 / 3 / 20);
  });

  it("keeps one floor for each reserved member, and spreads nothing else to them", () => {
    const split = splitOf(100, [{ id: "idle", claim: 0 }], 1);
    expect(split.count).toBe(2);
    expect(split.floor).toBeCloseTo(2.5);
    // The idle member gets all but the reserved floor: nobody else claims anything.
    expect(shareUnder(split, 0)).toBeCloseTo(97.5);
  });

  it("sets the level at the largest claim when every claim fits, and spreads the rest evenly", () => {
    const split = splitOf(300, [
      { id: "a", claim: 10 },
      { id: "b", claim: 20 },
    ]);
    expect(split.level).toBe(20);
    expect(split.bonus).toBeCloseTo(135);
    expect(shareUnder(split, 10)).toBeCloseTo(145);
    // Never more than the largest share of the split, whatever the claim.
    expect(shareUnder(split, null)).toBeCloseTo(155);
  });
});

describe("claimOf", () => {
  it("is unbounded when the bucket made a spend wait, else the measured rate with head room", () => {
    expect(claimOf(500, 5, true)).toBeNull();
    expect(claimOf(500, 5, false)).toBe(100 * DEMAND_HEADROOM);
    expect(claimOf(0, 3, false)).toBe(0);
  });

  it("asks THROTTLED_RAISE × its share when throttled once, everything when twice in a row", () => {
    const calm = { share: 40, throttled: false };
    expect(claimOf(150, 5, true, calm)).toBe(40 * THROTTLED_RAISE);
    // A measured rate above the raise is what it asks.
    expect(claimOf(500, 5, true, calm)).toBe(100 * DEMAND_HEADROOM);
    expect(claimOf(150, 5, true, { share: 40, throttled: true })).toBeNull();
    expect(claimOf(150, 5, false, { share: 40, throttled: true })).toBe(30 * DEMAND_HEADROOM);
  });
});

describe("looser", () => {
  it("orders claims with null (busy) above every number, and is strict", () => {
    expect(looser(null, 5)).toBe(true);
    expect(looser(6, 5)).toBe(true);
    expect(looser(null, null)).toBe(false);
    expect(looser(5, 5)).toBe(false);
    expect(looser(5, null)).toBe(false);
    expect(looser(4, 5)).toBe(false);
  });
});

// The adaptive renewal period: derived from the fleet's size and budget, with the lease lifetime
// that goes with it.
import { describe, expect, it } from "vitest";
import {
  jittered,
  LEASE_LOAD_SHARE,
  leaseLifetimeFor,
  longestLifetimeMs,
  MAX_RENEWAL_PERIOD_MS,
  OPS_PER_RENEWAL,
  RENEWAL_JITTER,
  renewalPeriodMs,
} from "../../../../sidecar/fleet/period.js";

const DEFAULT_LIFETIME = 6_000;

describe("renewalPeriodMs", () => {
  it("keeps a third of the lifetime in a small fleet (bench:fleet: 8 members, 400 records/s)", () => {
    expect(renewalPeriodMs(1, 10_000, DEFAULT_LIFETIME)).toBe(2_000);
    expect(renewalPeriodMs(4, 300, DEFAULT_LIFETIME)).toBe(2_000);
    expect(renewalPeriodMs(8, 400, DEFAULT_LIFETIME)).toBe(2_000);
    expect(renewalPeriodMs(100, 10_000, DEFAULT_LIFETIME)).toBe(2_000);
    // No split yet, or a count below one, is a fleet of one.
    expect(renewalPeriodMs(0, 10_000, DEFAULT_LIFETIME)).toBe(2_000);
  });

  it("grows with the fleet so that its lease operations stay at LEASE_LOAD_SHARE of the budget", () => {
    expect(renewalPeriodMs(300, 10_000, DEFAULT_LIFETIME)).toBe(3_000);
    expect(renewalPeriodMs(1_000, 10_000, DEFAULT_LIFETIME)).toBe(10_000);
    for (const [n, budget] of [
      [300, 10_000],
      [1_000, 10_000],
      [1_000, 50_000],
      [40, 1_000],
    ] as const) {
      const opsPerSecond = (OPS_PER_RENEWAL * n) / (renewalPeriodMs(n, budget, 6_000) / 1000);
      expect(opsPerSecond / budget).toBeCloseTo(LEASE_LOAD_SHARE, 3);
    }
  });

  it("stops at MAX_RENEWAL_PERIOD_MS, and never goes below a third of a long lifetime", () => {
    expect(renewalPeriodMs(5_000, 10_000, DEFAULT_LIFETIME)).toBe(MAX_RENEWAL_PERIOD_MS);
    expect(renewalPeriodMs(100, 1, DEFAULT_LIFETIME)).toBe(MAX_RENEWAL_PERIOD_MS);
    expect(renewalPeriodMs(5_000, 10_000, 300_000)).toBe(100_000);
  });
});

describe("leaseLifetimeFor", () => {
  it("is leaseLifetimeMs at the shortest period", () => {
    expect(leaseLifetimeFor(2_000, DEFAULT_LIFETIME)).toBe(DEFAULT_LIFETIME);
    expect(leaseLifetimeFor(100_000, 300_000)).toBe(300_000);
  });

  it("leaves a renewal at its longest draw the same slack whatever the period", () => {
    const slack = (period: number) =>
      leaseLifetimeFor(period, DEFAULT_LIFETIME) - period * (1 + RENEWAL_JITTER);
    expect(slack(2_000)).toBeCloseTo(3_600, 6);
    expect(slack(10_000)).toBeCloseTo(3_600, 6);
    expect(slack(MAX_RENEWAL_PERIOD_MS)).toBeCloseTo(3_600, 6);
    // 15.6 s at a 10 s period: shorter than three periods, so a dead member lapses sooner.
    expect(leaseLifetimeFor(10_000, DEFAULT_LIFETIME)).toBe(15_600);
  });

  it("is an integer within the option's range, up to longestLifetimeMs", () => {
    for (const lifetime of [1_000, 6_000, 59_999, 600_000]) {
      const longest = longestLifetimeMs(lifetime);
      expect(Number.isInteger(longest)).toBe(true);
      expect(longest).toBeGreaterThanOrEqual(lifetime);
      expect(longest).toBeLessThanOrEqual(600_000);
      expect(leaseLifetimeFor(renewalPeriodMs(1e9, 1, lifetime), lifetime)).toBe(longest);
    }
    // Lapsed leases keep a floor for two lifetimes: within the splitter's 60 s garbage cut-off.
    expect(2 * longestLifetimeMs(DEFAULT_LIFETIME)).toBeLessThanOrEqual(60_000);
  });
});

describe("jittered", () => {
  it("draws within ±RENEWAL_JITTER of the period", () => {
    expect(jittered(10_000, 0)).toBe(10_000 * (1 - RENEWAL_JITTER));
    expect(jittered(10_000, 0.5)).toBe(10_000);
    expect(jittered(10_000, 0.999_999)).toBe(10_000 * (1 + RENEWAL_JITTER));
  });
});

// FleetMembership's renewal period: drawn anew each time around a third of the lifetime.
import type { Collection } from "mongodb";
import { describe, expect, it } from "vitest";
import type { Logger } from "../../../../shared/util/logger.js";
import type { SidecarMetrics } from "../../../../sidecar/config/metrics.js";
import { FleetMembership, type LeaseDoc, RENEWAL_JITTER } from "../../../../sidecar/fleet/lease.js";

function member(random: () => number): FleetMembership {
  return new FleetMembership({
    leases: {} as Collection<LeaseDoc>,
    scope: "records",
    budget: 100,
    lifetimeMs: 6_000,
    deadline: (_op, work) => work,
    metrics: {} as SidecarMetrics,
    logger: {} as Logger,
    demand: () => null,
    onShare: () => undefined,
    random,
  });
}

describe("FleetMembership.nextRenewalInMs", () => {
  it("draws each period within ±RENEWAL_JITTER of a third of the lifetime, so renewals drift apart", () => {
    expect(member(() => 0).nextRenewalInMs()).toBe(2_000 * (1 - RENEWAL_JITTER));
    expect(member(() => 0.5).nextRenewalInMs()).toBe(2_000);
    expect(member(() => 0.999_999).nextRenewalInMs()).toBe(2_000 * (1 + RENEWAL_JITTER));
    let u = 0;
    const m = member(() => {
      u = (u + 0.37) % 1;
      return u;
    });
    const periods = new Set(Array.from({ length: 10 }, () => m.nextRenewalInMs()));
    expect(periods.size).toBeGreaterThan(5);
    // A lease renewed at the longest period still has two thirds of its lifetime left over.
    expect(2_000 * (1 + RENEWAL_JITTER)).toBeLessThan(6_000 / 2);
  });
});

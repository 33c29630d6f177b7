// FleetMembership's renewal period: drawn anew each time around its mean, a third of the lifetime
// in a small fleet and longer in a large one.
import type { Collection } from "mongodb";
import { describe, expect, it, vi } from "vitest";
import type { Logger } from "../../../../shared/util/logger.js";
import type { SidecarMetrics } from "../../../../sidecar/config/metrics.js";
import { FleetMembership, type LeaseDoc } from "../../../../sidecar/fleet/lease.js";
import {
  leaseLifetimeFor,
  RENEWAL_JITTER,
  renewalPeriodMs,
} from "../../../../sidecar/fleet/period.js";
import { type Claim, FLOOR_FRACTION, splitOf } from "../../../../sidecar/fleet/share.js";
import { type SplitDoc, splitId } from "../../../../sidecar/fleet/split-doc.js";

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

/**
 * A lease collection holding one split document, which the test sets, written by another member:
 * enough for FleetMembership.renew (lease write, split read, the count of a member not counted).
 */
function fleetOf(clock: () => number) {
  const writes: LeaseDoc[] = [];
  let split: SplitDoc | null = null;
  const leases = {
    findOneAndUpdate: async (
      filter: { _id: string },
      update: { $set: Omit<LeaseDoc, "_id" | "renewedAt"> },
    ) => {
      const doc: LeaseDoc = { _id: filter._id, ...update.$set, renewedAt: new Date(clock()) };
      writes.push(doc);
      return doc;
    },
    findOne: async () => split,
    countDocuments: async () => 1,
  } as unknown as Collection<LeaseDoc>;
  return {
    leases,
    writes,
    /** The split of `count` busy members, written by another member just now. */
    show(count: number, claim: Claim = null): void {
      const now = new Date(clock());
      split = {
        _id: splitId("records"),
        scope: splitId("records"),
        holder: "other",
        // Written by a member of that fleet: its lease's lifetime.
        lifetimeMs: leaseLifetimeFor(renewalPeriodMs(count, 10_000, 6_000), 6_000),
        lockedAt: now,
        readAt: now,
        version: (split?.version ?? 0) + 1,
        ...splitOf(
          10_000,
          Array.from({ length: count }, (_, i) => ({ id: `m${i}`, claim })),
        ),
        live: count,
        host: "elsewhere",
        pid: 1,
      };
    },
  };
}

describe("FleetMembership's adaptive period", () => {
  const quiet = { inc: () => undefined, set: () => undefined };
  const join = (leases: Collection<LeaseDoc>, onShare: (s: number) => void = () => undefined) =>
    new FleetMembership({
      leases,
      scope: "records",
      budget: 10_000,
      lifetimeMs: 6_000,
      deadline: (_op, work) => work,
      metrics: {
        errors: quiet,
        fleetMembers: quiet,
        fleetBudget: quiet,
      } as unknown as SidecarMetrics,
      logger: { warn: () => undefined, info: () => undefined } as unknown as Logger,
      demand: () => null,
      onShare,
      random: () => 0.5,
    });

  it("adopts the longer period once its lease declares the lifetime for it, and the short one at once", async () => {
    const f = fleetOf(() => Date.now());
    f.show(1_000);
    const m = join(f.leases);
    await m.renew();
    // Its lease declared the lifetime of the short period: it renews once more at that period.
    expect(f.writes.at(-1)?.lifetimeMs).toBe(6_000);
    expect(m.renewalPeriodMs).toBe(2_000);
    await m.renew();
    expect(f.writes.at(-1)?.lifetimeMs).toBe(leaseLifetimeFor(10_000, 6_000));
    expect(m.renewalPeriodMs).toBe(10_000);
    f.show(50);
    await m.renew();
    expect(m.renewalPeriodMs).toBe(2_000);
    await m.renew();
    expect(f.writes.at(-1)?.lifetimeMs).toBe(6_000);
  });

  it("counts itself in a split that read its last lease, though the one before lapsed by then", async () => {
    vi.useFakeTimers();
    try {
      const f = fleetOf(() => Date.now());
      f.show(1_000);
      let share = 0;
      const m = join(f.leases, (s) => {
        share = s;
      });
      m.start();
      // Lease writes at 2, 4, 14 and 24 s, declaring 15.6 s from the one at 4 s on.
      await vi.advanceTimersByTimeAsync(15_000);
      expect(f.writes.length).toBe(3);
      // A split reading at 22 s read the lease written at 14 s (live until 29.6 s); the one
      // before (4 s) had lapsed at 19.6 s, but only after the one at 14 s replaced it.
      await vi.advanceTimersByTimeAsync(7_000);
      f.show(1_000);
      await vi.advanceTimersByTimeAsync(3_000);
      expect(f.writes.length).toBe(4);
      // Busy in a split of 1,000 busy members: the level, not the floor of one not counted.
      expect(share).toBeCloseTo(10, 6);
      expect(share).toBeGreaterThan((10_000 / 1_000) * FLOOR_FRACTION * 2);
      await m.leave();
    } finally {
      vi.useRealTimers();
    }
  });

  it("renews about every 10 s in a fleet of 1,000 at 10,000 records/s, every 2 s when it shrinks", async () => {
    vi.useFakeTimers();
    try {
      const f = fleetOf(() => Date.now());
      f.show(1_000);
      const m = join(f.leases);
      m.start();
      await vi.advanceTimersByTimeAsync(60_000);
      // 2 s to the first renewal, 2 s to the second, then every 10 s: 6 in the first minute.
      expect(f.writes.length).toBe(7);
      f.show(20);
      const before = f.writes.length;
      await vi.advanceTimersByTimeAsync(60_000);
      // At most one more 10 s wait, then every 2 s.
      expect(f.writes.length - before).toBeGreaterThanOrEqual(25);
      await m.leave();
    } finally {
      vi.useRealTimers();
    }
  });
});

// Bulk sizes under a write rate: a quarter second of the share, larger only when slow writes
// could not carry the rate otherwise.
import { describe, expect, it, vi } from "vitest";
import { bucketCapacity, bulkLimit } from "../../../../sidecar/write/bulk-pacing.js";
import { RateLimiter } from "../../../../sidecar/write/rate-limiter.js";

const fast = { latencyMs: 20, concurrency: 4 };

describe("bulk pacing", () => {
  it("holds a quarter second of the share in the bucket, within bulkSize, at least 1", () => {
    expect(bucketCapacity(500, 400)).toBe(100);
    expect(bucketCapacity(500, 75)).toBe(18);
    expect(bucketCapacity(50, 400)).toBe(50);
    expect(bucketCapacity(500, 2)).toBe(1);
  });

  it("makes bulks of half the bucket while writes are quick", () => {
    expect(bulkLimit(500, { ratePerSecond: 400, capacity: 100, ...fast })).toBe(50);
    expect(bulkLimit(500, { ratePerSecond: 2, capacity: 1, ...fast })).toBe(1);
    expect(
      bulkLimit(500, { ratePerSecond: 400, capacity: 100, latencyMs: undefined, concurrency: 4 }),
    ).toBe(50);
  });

  it("writes bulkSize without a rate", () => {
    expect(bulkLimit(500, { ratePerSecond: 0, capacity: 500, ...fast })).toBe(500);
  });

  it("grows bulks so that the slots in flight carry the rate when writes are slow", () => {
    // 400/s, 2 s per write, 2 slots: each bulk must carry 400 × 2 / 2 = 400 records (+25 %).
    expect(
      bulkLimit(2_000, { ratePerSecond: 400, capacity: 100, latencyMs: 2_000, concurrency: 2 }),
    ).toBe(500);
    expect(
      bulkLimit(300, { ratePerSecond: 400, capacity: 100, latencyMs: 2_000, concurrency: 2 }),
    ).toBe(300);
  });

  it("lets no 5 s window take more than 5 % over the rate, even from a full bucket", async () => {
    // The worst case: a member whose bucket filled while it waited, writing back to back. With
    // 1-second buckets and bulks this took 6 seconds of share in 5 s (+20 %).
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(0);
    try {
      const rate = 400;
      const capacity = bucketCapacity(500, rate);
      const limiter = new RateLimiter(rate, capacity, capacity);
      const bulk = bulkLimit(500, { ratePerSecond: rate, capacity, ...fast });
      let spent = 0;
      for (;;) {
        const wait = limiter.delayFor(bulk);
        if (Date.now() + wait > 5_000) break;
        vi.setSystemTime(Date.now() + wait);
        expect(await limiter.spend(bulk)).toBe(true);
        spent += bulk;
      }
      expect(spent).toBeLessThanOrEqual(rate * 5 * 1.05);
      expect(spent).toBeGreaterThanOrEqual(rate * 5 * 0.95);
    } finally {
      vi.useRealTimers();
    }
  });

  it("loses no rate to a writer that wakes up to an eighth of a second late", async () => {
    // A busy event loop: every wake-up 100 ms after the tokens are there. With bulks as large as
    // the bucket, each of those milliseconds was lost (72 % of the rate at 400/s).
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(0);
    try {
      const rate = 400;
      const capacity = bucketCapacity(500, rate);
      const limiter = new RateLimiter(rate, capacity, 0);
      const bulk = bulkLimit(500, { ratePerSecond: rate, capacity, ...fast });
      let spent = 0;
      for (;;) {
        const wait = limiter.delayFor(bulk);
        const at = Date.now() + (wait > 0 ? wait + 100 : 0);
        if (at > 10_000) break;
        vi.setSystemTime(at);
        expect(await limiter.spend(bulk)).toBe(true);
        spent += bulk;
      }
      expect(spent).toBeGreaterThanOrEqual(rate * 10 * 0.95);
    } finally {
      vi.useRealTimers();
    }
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ConcurrencyLimiter } from "../../../../sidecar/write/concurrency-limiter.js";
import { RateLimiter } from "../../../../sidecar/write/rate-limiter.js";

describe("RateLimiter (token bucket)", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("lets the first bucketful through, then holds the long-run rate exactly", async () => {
    const limiter = new RateLimiter(100, 10);
    const spentAt: number[] = [];
    const begunAt = Date.now();
    const all = Array.from({ length: 101 }, () =>
      limiter.spend(10).then(() => spentAt.push(Date.now() - begunAt)),
    );
    await vi.advanceTimersByTimeAsync(0);
    expect(spentAt).toEqual([0]); // the full bucket
    await vi.advanceTimersByTimeAsync(10_000);
    await Promise.all(all);
    // 100 more bulks of 10 at 100/s: the last one at 10 s, none early.
    expect(spentAt).toHaveLength(101);
    expect(spentAt.at(-1)).toBe(10_000);
    for (const [i, t] of spentAt.entries()) expect(t).toBeGreaterThanOrEqual(i * 100);
  });

  it("lets a bulk larger than the bucket through and pays the debt afterwards", async () => {
    const limiter = new RateLimiter(10, 5);
    const times: number[] = [];
    const begunAt = Date.now();
    void limiter.spend(50).then(() => times.push(Date.now() - begunAt));
    void limiter.spend(5).then(() => times.push(Date.now() - begunAt));
    await vi.advanceTimersByTimeAsync(10_000);
    // 50 spent at once (bucket 5 → debt 45); the next 5 need the debt and 5 more: 5 s.
    expect(times).toEqual([0, 5_000]);
  });

  it("gives up without spending tokens when aborted", async () => {
    const limiter = new RateLimiter(1, 1);
    await limiter.spend(1);
    const abort = new AbortController();
    const waiting = limiter.spend(1, abort.signal);
    abort.abort();
    expect(await waiting).toBe(false);
    expect(limiter.delayFor(1)).toBe(1000);
  });

  it("wakes a waiter at a new rate at once and reports whether anyone waited", async () => {
    const limiter = new RateLimiter(1, 10);
    await limiter.spend(10);
    expect(limiter.usage()).toEqual({ spent: 10, throttled: false });
    const begunAt = Date.now();
    let spentAfter = -1;
    void limiter.spend(10).then(() => {
      spentAfter = Date.now() - begunAt;
    });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(spentAfter).toBe(-1); // at 1/s, 10 s to go
    limiter.setRate(100, 10);
    await vi.advanceTimersByTimeAsync(100);
    // 1 token earned at the old rate, 9 more at 100/s: 90 ms after the change.
    expect(spentAfter).toBeGreaterThanOrEqual(1_090);
    expect(spentAfter).toBeLessThanOrEqual(1_100);
    expect(limiter.usage()).toEqual({ spent: 10, throttled: true });
    expect(limiter.usage()).toEqual({ spent: 0, throttled: false });
  });

  it("never waits with rate 0 (no limit)", async () => {
    const limiter = new RateLimiter(0, 1);
    expect(await limiter.spend(1_000_000)).toBe(true);
    expect(limiter.delayFor(1_000_000)).toBe(0);
  });
});

describe("ConcurrencyLimiter", () => {
  it("never grants more slots than the limit", async () => {
    const limiter = new ConcurrencyLimiter({ max: 2, adaptive: false });
    expect(await limiter.acquire()).toBe(true);
    expect(await limiter.acquire()).toBe(true);
    let third = false;
    const waiting = limiter.acquire().then((ok) => {
      third = ok;
    });
    await Promise.resolve();
    expect(third).toBe(false);
    limiter.done(10);
    await waiting;
    expect(third).toBe(true);
    expect(limiter.running).toBe(2);
  });

  it("treats a failed write as congestion", () => {
    const limiter = new ConcurrencyLimiter({ max: 4, adaptive: true });
    void limiter.acquire();
    limiter.done(undefined);
    expect(limiter.limit).toBe(3);
  });

  it("keeps the limit at max when not adaptive", () => {
    const limiter = new ConcurrencyLimiter({ max: 4, adaptive: false });
    void limiter.acquire();
    limiter.done(1_000_000);
    expect(limiter.limit).toBe(4);
  });
});

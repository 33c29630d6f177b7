// The sweep's pacing and bounds, on a store in memory and the real token bucket, with fake clocks.
import { ObjectId } from "bson";
import type { Document } from "mongodb";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { batchSize, cutoffAt, sweep } from "../../../../sidecar/retention/sweep.js";
import type { SweepDoc, SweepStore } from "../../../../sidecar/retention/sweep-store.js";
import { RateLimiter } from "../../../../sidecar/write/rate-limiter.js";

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 1);

interface Rec {
  _id: ObjectId;
  ts: Date;
  actor: { id: string };
}

function rec(at: number, actor: string, tsAt = at): Rec {
  const id = Buffer.from(new ObjectId().id);
  id.writeUInt32BE(Math.floor(at / 1000), 0);
  return { _id: new ObjectId(id), ts: new Date(tsAt), actor: { id: actor } };
}

/** A SweepStore over an array, holding on `actor.id` only; records each deletion's time. */
class MemoryStore implements SweepStore {
  deletions: { at: number; n: number }[] = [];
  finished = false;
  progressed = 0;
  constructor(
    public records: Rec[],
    public heldActors: string[] = [],
  ) {}
  private expired(r: Rec, cutoff: ObjectId, holds: Document[]): boolean {
    const held = holds.some((h) => h["actor.id"] === r.actor.id);
    return r._id.toHexString() < cutoff.toHexString() && r.ts < cutoff.getTimestamp() && !held;
  }
  async begin(cutoff: ObjectId): Promise<SweepDoc> {
    return { _id: new ObjectId(), cutoff, deleted: 0, startedAt: new Date(), finishedAt: null };
  }
  async holds() {
    return this.heldActors.map((a) => ({ "actor.id": a }));
  }
  candidates(cutoff: ObjectId, holds: Document[]) {
    const ids = this.records
      .filter((r) => this.expired(r, cutoff, holds))
      .map((r) => r._id)
      .sort((a, b) => a.toHexString().localeCompare(b.toHexString()));
    return {
      next: async (n: number) => ids.splice(0, n),
      close: async () => undefined,
    };
  }
  async deleteBatch(first: ObjectId, last: ObjectId, cutoff: ObjectId, holds: Document[]) {
    const inRange = (r: Rec) =>
      r._id.toHexString() >= first.toHexString() && r._id.toHexString() <= last.toHexString();
    const before = this.records.length;
    this.records = this.records.filter((r) => !(inRange(r) && this.expired(r, cutoff, holds)));
    const n = before - this.records.length;
    this.deletions.push({ at: Date.now(), n });
    return n;
  }
  async progress(_sweep: ObjectId, deleted: number) {
    this.progressed += deleted;
  }
  async finish() {
    this.finished = true;
  }
  async sweptSince() {
    return false;
  }
}

/** The most tokens spent in any window [t, t + 1 s) that starts at an event. */
function peakPerSecond(events: readonly { at: number; n: number }[]): number {
  let peak = 0;
  for (const a of events) {
    const sum = events
      .filter((e) => e.at >= a.at && e.at < a.at + 1_000)
      .reduce((s, e) => s + e.n, 0);
    peak = Math.max(peak, sum);
  }
  return peak;
}

describe("retention sweep", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    vi.setSystemTime(NOW);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const deps = (store: SweepStore, rate: RateLimiter, keepLease = async () => true) => ({
    store,
    rate,
    bulkSize: 500,
    retentionDays: 30,
    keepLease,
    onBatch: () => undefined,
  });

  it("batches by the bucket's capacity, or bulkSize without a rate", () => {
    expect(batchSize(500, { ratePerSecond: 100, capacity: 25 })).toBe(25);
    expect(batchSize(10, { ratePerSecond: 100, capacity: 25 })).toBe(10);
    expect(batchSize(500, { ratePerSecond: 0, capacity: 500 })).toBe(500);
    expect(cutoffAt(NOW, 30).getTimestamp().getTime()).toBe(NOW - 30 * DAY);
  });

  it("deletes exactly the old records not held, oldest first, at no more than the rate in any second", async () => {
    const old = Array.from({ length: 600 }, (_, i) => rec(NOW - 100 * DAY + i * 1000, `u${i % 6}`));
    const fresh = Array.from({ length: 200 }, (_, i) => rec(NOW - DAY + i, `u${i % 6}`));
    // An old-looking _id (a hash, from another producer) on a new record: kept by its ts.
    const hashed = rec(NOW - 100 * DAY, "u1", NOW - DAY);
    const store = new MemoryStore([...old, ...fresh, hashed], ["u0"]);
    // As the write stage makes it: 100 records/s, a quarter second of capacity, empty at start.
    const rate = new RateLimiter(100, 25, 0);
    const running = sweep(deps(store, rate), NOW, new AbortController().signal);
    await vi.advanceTimersByTimeAsync(10_000);
    const result = await running;
    const kept = new Set(store.records.map((r) => r._id.toHexString()));
    const expected = old.filter((r) => r.actor.id !== "u0");
    expect(result).toMatchObject({ deleted: expected.length, end: "done" });
    expect(expected.every((r) => !kept.has(r._id.toHexString()))).toBe(true);
    expect(store.records).toHaveLength(800 + 1 - expected.length);
    expect(store.finished).toBe(true);
    expect(store.progressed).toBe(expected.length);
    // 500 records at 100/s from an empty bucket: 5 s, 25 at a time, 100 in any 1 s window.
    expect(store.deletions.every((d) => d.n <= 25)).toBe(true);
    expect(store.deletions.at(-1)?.at).toBe(NOW + 5_000);
    expect(peakPerSecond(store.deletions)).toBe(100);
  });

  it("shares the bucket with inserts: together they stay within the rate and its burst", async () => {
    const old = Array.from({ length: 400 }, (_, i) => rec(NOW - 100 * DAY + i * 1000, "u"));
    const store = new MemoryStore(old);
    const rate = new RateLimiter(100, 25, 0);
    // The bulk writer, busy: a bulk of 12 waits for its tokens, again and again.
    const inserts: { at: number; n: number }[] = [];
    let writing = true;
    const writer = (async () => {
      while (writing) {
        await rate.spend(12);
        inserts.push({ at: Date.now(), n: 12 });
      }
    })();
    const running = sweep(deps(store, rate), NOW, new AbortController().signal);
    await vi.advanceTimersByTimeAsync(20_000);
    const result = await running;
    writing = false;
    await vi.advanceTimersByTimeAsync(1_000);
    await writer;
    expect(result.deleted).toBe(400);
    const sweepEnd = store.deletions.at(-1)?.at ?? 0;
    const both = [...store.deletions, ...inserts.filter((e) => e.at <= sweepEnd)];
    // A token bucket's bound: the rate, plus what the bucket held when the window began (at most
    // its capacity, a quarter second); from an empty bucket, never more than the rate on average.
    expect(peakPerSecond(both)).toBeLessThanOrEqual(100 + 25);
    expect(both.reduce((s, e) => s + e.n, 0)).toBeLessThanOrEqual(((sweepEnd - NOW) / 1000) * 100);
    // The inserts were not starved: they took a good part of the budget meanwhile.
    expect(inserts.filter((e) => e.at <= sweepEnd).length * 12).toBeGreaterThan(150);
  });

  it("stops between batches when aborted or when the lease is lost, and does not finish", async () => {
    const old = Array.from({ length: 100 }, (_, i) => rec(NOW - 100 * DAY + i, "u"));
    const stopped = new MemoryStore([...old]);
    const abort = new AbortController();
    const running = sweep(deps(stopped, new RateLimiter(10, 2, 0)), NOW, abort.signal);
    await vi.advanceTimersByTimeAsync(1_000);
    abort.abort();
    const result = await running;
    expect(result.end).toBe("stopped");
    expect(stopped.finished).toBe(false);
    expect(stopped.records.length).toBeGreaterThan(80);

    // Without a rate (no timers): the lease is checked before each batch.
    const lost = new MemoryStore([...old]);
    let renewals = 0;
    const keep = async () => ++renewals < 3;
    const cut = await sweep(
      { ...deps(lost, new RateLimiter(0, 1), keep), bulkSize: 10 },
      NOW,
      new AbortController().signal,
    );
    expect(cut).toMatchObject({ end: "lease-lost", deleted: 20, batches: 2 });
    expect(lost.records).toHaveLength(80);
    expect(lost.finished).toBe(false);
  });
});

// The adaptive write concurrency against model databases, in virtual time: one that queues
// (drive it at its pace, settle) and one that collapses (back off, then recover).
import { describe, expect, it } from "vitest";
import {
  backlog,
  batches,
  type Run,
  serializingDatabase,
  simulate,
} from "./concurrency-simulation.js";

const SERVICE_MS = 100; // one bulk of 500 on FerretDB, roughly
const NETWORK_MS = 15; // each way: the sidecar's own work per bulk plus the loopback

/** Records per ms a run achieved, against the database's capacity (one bulk per service time). */
const pace = (run: Run, writes: number) => writes / run.elapsedMs / (1 / SERVICE_MS);

describe("adaptive concurrency on a database that queues", () => {
  it("settles with a backlog: few changes, the database kept busy", () => {
    const db = serializingDatabase({ serviceMs: () => SERVICE_MS, networkMs: NETWORK_MS });
    const writes = 2_000;
    const run = simulate(db, backlog(), writes);
    // The old rule (latency over twice a baseline that hugs the fastest write) changed it 8 times.
    expect(run.changes.length).toBeLessThanOrEqual(4);
    expect(run.limitAtStart.slice(200).every((l) => l >= 2)).toBe(true);
    expect(pace(run, writes)).toBeGreaterThan(0.97);
  });

  it("settles when work comes in batches and in-flight writes vary from 1 to the limit", () => {
    const db = serializingDatabase({ serviceMs: () => SERVICE_MS, networkMs: NETWORK_MS });
    const writes = 2_000;
    // Four bulks about every four service times: as much work as the database can take, in
    // bursts. The old rule changed the limit 206 times here.
    const run = simulate(db, batches(4, 4 * SERVICE_MS * 1.02), writes);
    expect(run.changes.length).toBeLessThanOrEqual(6);
    const low = run.limitAtStart.filter((l) => l === 1).length;
    expect(low / writes).toBeLessThan(0.02);
    const fixed = simulate(
      serializingDatabase({ serviceMs: () => SERVICE_MS, networkMs: NETWORK_MS }),
      batches(4, 4 * SERVICE_MS * 1.02),
      writes,
      { adaptive: false },
    );
    expect(run.elapsedMs / fixed.elapsedMs).toBeLessThan(1.03);
  });
  it("keeps the limit when a backlog follows a long trickle (latency learnt with one in flight)", () => {
    const db = serializingDatabase({ serviceMs: () => SERVICE_MS, networkMs: NETWORK_MS });
    // A bulk every 3 service times for a minute (one write in flight at a time), then a backlog.
    let at = 0;
    const trickleThenBacklog = {
      next: () => {
        at += 3 * SERVICE_MS;
        return { at, bulks: at < 60_000 ? 1 : Number.POSITIVE_INFINITY };
      },
    };
    const run = simulate(db, trickleThenBacklog, 1_000);
    // Four in flight take four times as long on a database that queues: that is its pace.
    expect(run.changes).toEqual([]);
  });
});

describe("adaptive concurrency when MongoDB is down, then back", () => {
  it("climbs back to the maximum within a second of writes succeeding again", () => {
    const DOWN_AT = 30_000;
    const UP_AT = 45_000;
    const normal = serializingDatabase({ serviceMs: () => SERVICE_MS, networkMs: NETWORK_MS });
    const outage = {
      submit: (now: number) =>
        now >= DOWN_AT && now < UP_AT ? { answeredAt: now + 50, ok: false } : normal.submit(now),
    };
    const run = simulate(outage, backlog(), 800);
    const during = run.changes.filter((c) => c.at >= DOWN_AT && c.at < UP_AT);
    expect(during.at(-1)?.limit).toBe(1);
    const back = run.changes.find((c) => c.at >= UP_AT && c.limit === 4);
    expect((back?.at ?? Number.POSITIVE_INFINITY) - UP_AT).toBeLessThan(1_000);
  });
});

describe("adaptive concurrency on a database that collapses", () => {
  const DOWN_AT = 60_000;
  const UP_AT = 180_000;
  /** Normal, then from DOWN_AT latency grows 20 % every second up to 100×, then normal at UP_AT. */
  const collapsing = (deadlineMs?: number) =>
    serializingDatabase({
      serviceMs: (now) =>
        now < DOWN_AT || now >= UP_AT
          ? SERVICE_MS
          : SERVICE_MS * Math.min(100, 10 * 1.2 ** ((now - DOWN_AT) / 1_000)),
      networkMs: NETWORK_MS,
      ...(deadlineMs === undefined ? {} : { deadlineMs }),
    });
  const limitAt = (run: Run, at: number) =>
    run.changes.filter((c) => c.at <= at).at(-1)?.limit ?? run.limiter.limit;

  it("drops to 1 while writes time out, and climbs back to the maximum after", () => {
    const run = simulate(collapsing(3_000), backlog(), 2_500);
    expect(run.elapsedMs).toBeGreaterThan(UP_AT + 20_000);
    expect(limitAt(run, DOWN_AT - 1)).toBe(4);
    const down = run.changes.find((c) => c.at > DOWN_AT && c.limit === 1);
    expect(down).toBeDefined();
    expect((down?.at ?? 0) - DOWN_AT).toBeLessThan(20_000);
    // No climbing while it is down: at most a probe to 2 now and then.
    const during = run.changes.filter((c) => c.at > (down?.at ?? 0) && c.at < UP_AT);
    expect(Math.max(1, ...during.map((c) => c.limit))).toBeLessThanOrEqual(2);
    expect(limitAt(run, UP_AT + 20_000)).toBe(4);
  });

  it("lowers the limit when latency explodes without a single error", () => {
    const run = simulate(collapsing(), backlog(), 1_200);
    expect(limitAt(run, DOWN_AT - 1)).toBe(4);
    const first = run.changes.find((c) => c.at > DOWN_AT);
    expect(first?.limit).toBeLessThan(4);
    expect((first?.at ?? Number.POSITIVE_INFINITY) - DOWN_AT).toBeLessThan(5_000);
  });
});

// Several sidecar processes on one queue share one write budget (maxWriteRate) through leases in
// MongoDB: 1 → 4 members never overshoot, 4 write at the budget, 2 SIGKILLed leave it to the rest.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { freePort } from "../helpers/processes.js";
import {
  createTestDb,
  createTestQueue,
  mongoUri,
  type SqsTarget,
  sqsTargets,
  type TestDb,
  type TestQueue,
  waitFor,
} from "../helpers/services.js";
import { testSidecar } from "../helpers/sidecar.js";
import { FleetWatch } from "./fleet-fixtures.js";
import { type CliProcess, metricValue, sendRecords, spawnCli } from "./sidecar-fixtures.js";

const target = sqsTargets()[0] as SqsTarget;
/** Far below the local FerretDB's ceiling (about 8,000 records/s in BENCHMARKS.md). */
const BUDGET = 240;
/** More than the fleet can write at BUDGET during the test: the backlog never runs dry. */
const TOTAL = 36_000;

describe(`sidecar fleet on one write budget (${target.name})`, () => {
  let queue: TestQueue;
  let mongo: TestDb;
  const children: CliProcess[] = [];

  beforeEach(async () => {
    queue = await createTestQueue(target);
    mongo = await createTestDb();
  });

  afterEach(async () => {
    for (const c of children.splice(0)) {
      if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill("SIGKILL");
      await c.exited;
    }
    await queue.dispose();
    await mongo.dispose();
  });

  it("holds the budget from 1 to 4 members, rebalances after SIGKILL, stores each record once", async () => {
    const ids = await sendRecords(queue.sqs, queue.queueUrl, TOTAL, 50);
    const watch = new FleetWatch();
    const start = async () => {
      const port = await freePort();
      const c = spawnCli(target.endpoint, {
        AUDITQ_QUEUE_URL: queue.queueUrl,
        AUDITQ_MONGODB_URI: mongoUri(),
        AUDITQ_DATABASE: mongo.name,
        AUDITQ_METRICS_PORT: String(port),
        AUDITQ_MAX_WRITE_RATE: String(BUDGET),
        // Short, so that what a killed member held comes back within the test.
        AUDITQ_VISIBILITY_TIMEOUT_SECONDS: "10",
        AUDITQ_WAIT_TIME_SECONDS: "1",
      });
      children.push(c);
      watch.add(port);
      return { c, port };
    };
    const gauge = (port: number, name: string) => metricValue(watch.metrics(port), name);
    watch.start();
    try {
      // One member alone has the whole budget.
      const first = await start();
      await waitFor(
        "the first member writing at the whole budget for 3 s",
        async () => {
          const since = watch.samples.find((s) => s.total > 0)?.t ?? Date.now();
          return {
            share: gauge(first.port, "auditq_sidecar_write_share_records_per_second"),
            for: Date.now() - since,
          };
        },
        (s) => s.share === BUDGET && s.for >= 3_000,
        { timeoutMs: 60_000, intervalMs: 200 },
      );
      const joinedFrom = Date.now();
      const others = await Promise.all([start(), start(), start()]);
      const all = [first, ...others];
      await waitFor(
        "four members, each with a quarter of the budget",
        async () =>
          all.map((m) => ({
            members: gauge(m.port, "auditq_sidecar_fleet_members"),
            share: gauge(m.port, "auditq_sidecar_write_share_records_per_second"),
          })),
        (v) => v.every((m) => m.members === 4 && Math.abs(m.share - BUDGET / 4) < 0.01),
        { timeoutMs: 90_000, intervalMs: 200 },
      );
      // Four members over 10 s: the combined rate is the budget.
      const steadyFrom = Date.now();
      await waitFor(
        "10 s of samples at four members",
        async () => watch.samples.at(-1)?.t ?? 0,
        (t) => t >= steadyFrom + 10_000,
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      const steady = watch.rate(steadyFrom, steadyFrom + 10_000);
      expect(steady).toBeGreaterThanOrEqual(BUDGET * 0.9);
      expect(steady).toBeLessThanOrEqual(BUDGET * 1.1);
      // From one member to four, no 5 s window above the budget by more than 10 %.
      expect(watch.peakRate(5_000, joinedFrom - 5_000)).toBeLessThanOrEqual(BUDGET * 1.1);

      // SIGKILL two: the other two take the whole budget within 15 s.
      const [, , third, fourth] = all as [typeof first, typeof first, typeof first, typeof first];
      const killedAt = Date.now();
      third.c.child.kill("SIGKILL");
      fourth.c.child.kill("SIGKILL");
      await Promise.all([third.c.exited, fourth.c.exited]);
      watch.remove(third.port);
      watch.remove(fourth.port);
      const survivors = all.slice(0, 2);
      const rebalancedAt = await waitFor(
        "the two survivors writing at the whole budget",
        async () => {
          const now = Date.now();
          const shares = survivors.map((m) =>
            gauge(m.port, "auditq_sidecar_write_share_records_per_second"),
          );
          return { now, shares, rate: watch.rate(now - 2_000, now) };
        },
        (v) => v.shares.every((s) => Math.abs(s - BUDGET / 2) < 0.01) && v.rate >= BUDGET * 0.9,
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      expect(rebalancedAt.now - killedAt).toBeLessThanOrEqual(15_000);
      for (const m of survivors) expect(gauge(m.port, "auditq_sidecar_fleet_members")).toBe(2);
      expect(watch.peakRate(5_000, killedAt)).toBeLessThanOrEqual(BUDGET * 1.1);
      // A graceful stop releases the lease.
      await watch.stop();
      for (const m of survivors) m.c.child.kill("SIGTERM");
      for (const m of survivors) expect((await m.c.exited).code).toBe(0);
      const pids = survivors.map((m) => m.c.child.pid);
      expect(
        await mongo.db.collection("sidecar_leases").countDocuments({ pid: { $in: pids } }),
      ).toBe(0);
    } finally {
      await watch.stop();
    }

    // The rest of the backlog, without a budget, then: every record exactly once.
    const drain = testSidecar(target, queue, mongo, { visibilityTimeoutSeconds: 10 });
    await drain.start();
    const records = mongo.db.collection("records");
    try {
      await waitFor(
        "every record stored and the queue empty",
        async () => ({ docs: await records.countDocuments(), queue: await queue.depth() }),
        (s) => s.docs >= TOTAL && s.queue.visible + s.queue.inflight === 0,
        { timeoutMs: 120_000, intervalMs: 500 },
      );
    } finally {
      await drain.stop();
    }
    expect(await records.countDocuments()).toBe(TOTAL);
    // _id is unique, so TOTAL documents holding every sent _id is each record exactly once.
    const stored = new Set(
      (await records.find({}, { projection: { _id: 1 } }).toArray()).map((d) => String(d._id)),
    );
    expect(ids.filter((id) => !stored.has(String(id)))).toEqual([]);
  }, 300_000);
});

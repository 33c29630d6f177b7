// The acceptance test for the fleet budget: sidecar processes (the CLI) on one queue share
// one maxWriteRate through leases in MongoDB. 1 → 4 members never overshoot it, 4 write at it,
// 2 SIGKILLed leave it to the other 2, and every record is stored exactly once. The rate is what
// MongoDB took, from each member's own records_written_total, sampled every 200 ms.
import { describe, expect, it } from "vitest";
import { FleetWatch } from "../../helpers/fleet-watch.js";
import { metricValue } from "../../helpers/metric-value.js";
import { Backlog } from "../../helpers/queue-records.js";
import { type SqsTarget, sqsTargets, waitFor } from "../../helpers/services.js";
import { useSidecarRig } from "../../helpers/sidecar-rig.js";

const target = sqsTargets()[0] as SqsTarget;
/**
 * Well below what the local FerretDB takes from four sidecars without a budget (thousands of
 * records/s, docs/benchmarks.md "Sidecar fleet"), so the budget, not MongoDB, holds the rate.
 */
const BUDGET = 300;
const SHARE = "auditq_sidecar_write_share_records_per_second";
const MEMBERS = "auditq_sidecar_fleet_members";

describe(`sidecar fleet on one write budget (${target.name})`, () => {
  const rig = useSidecarRig(target);

  it("holds the budget from 1 to 4 members, rebalances after SIGKILL, stores each record once", async () => {
    const { queue, mongo } = rig;
    // Always more than 10 s of writing at the budget waiting in the queue.
    const backlog = new Backlog(queue, 3_000);
    await backlog.start(6_000);
    const watch = new FleetWatch();
    type Member = Awaited<ReturnType<typeof rig.spawn>>;
    const join = async (): Promise<Member> => {
      const member = await rig.spawn({
        AUDITQ_MAX_WRITE_RATE: String(BUDGET),
        // Short, so that what a killed member held comes back for the final drain soon.
        AUDITQ_VISIBILITY_TIMEOUT_SECONDS: "10",
        AUDITQ_WAIT_TIME_SECONDS: "1",
      });
      watch.add(member.port);
      return member;
    };
    const gauge = (m: Member, name: string) => metricValue(watch.metrics(m.port), name);
    /** Every member of `fleet` sees them all and holds an equal share. */
    const balanced = (fleet: readonly Member[]) =>
      waitFor(
        `${fleet.length} members, each at ${BUDGET / fleet.length} records/s`,
        async () => fleet.map((m) => ({ members: gauge(m, MEMBERS), share: gauge(m, SHARE) })),
        (v) =>
          v.every(
            (m) => m.members === fleet.length && Math.abs(m.share - BUDGET / fleet.length) < 0.01,
          ),
        { timeoutMs: 60_000, intervalMs: 200 },
      );
    /** Resolves once the watch has samples up to `t`. */
    const sampledUntil = (t: number) =>
      waitFor(
        "samples of the fleet's metrics",
        async () => watch.samples.at(-1)?.t ?? 0,
        (last) => last >= t,
        { timeoutMs: 30_000, intervalMs: 100 },
      );

    watch.start();
    try {
      // One member alone gets the whole budget, and writes at it for 5 s.
      const fleet = [await join()];
      await balanced(fleet);
      const writingFrom = Date.now();
      await sampledUntil(writingFrom + 5_000);
      const alone = watch.rate(writingFrom, writingFrom + 5_000);
      expect(alone).toBeGreaterThanOrEqual(BUDGET * 0.9);
      expect(alone).toBeLessThanOrEqual(BUDGET * 1.1);

      // Then three more, one at a time: each joins within its renewals, nobody overshoots.
      for (let n = 2; n <= 4; n++) {
        fleet.push(await join());
        await balanced(fleet);
      }
      // Four members over 10 s: the combined rate is the budget.
      const steadyFrom = Date.now();
      await sampledUntil(steadyFrom + 10_000);
      const steady = watch.rate(steadyFrom, steadyFrom + 10_000);
      expect(steady).toBeGreaterThanOrEqual(BUDGET * 0.9);
      expect(steady).toBeLessThanOrEqual(BUDGET * 1.1);
      // From one member to four, no 5 s window more than 10 % above the budget.
      expect(watch.peakRate(5_000, writingFrom)).toBeLessThanOrEqual(BUDGET * 1.1);

      // SIGKILL two: the other two take the whole budget within 15 s.
      const [first, second, third, fourth] = fleet as [Member, Member, Member, Member];
      const killedAt = Date.now();
      third.cli.child.kill("SIGKILL");
      fourth.cli.child.kill("SIGKILL");
      await Promise.all([third.cli.exited, fourth.cli.exited]);
      watch.remove(third.port);
      watch.remove(fourth.port);
      const survivors = [first, second];
      await balanced(survivors);
      const rebalanced = await waitFor(
        "the two survivors writing at the whole budget (over the last 2 s)",
        async () => {
          const now = watch.samples.at(-1)?.t ?? 0;
          return { now, rate: watch.rate(now - 2_000, now) };
        },
        (v) => v.rate >= BUDGET * 0.9,
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      expect(rebalanced.now - killedAt).toBeLessThanOrEqual(15_000);
      // And they stay at it.
      const afterFrom = Date.now();
      await sampledUntil(afterFrom + 5_000);
      const after = watch.rate(afterFrom, afterFrom + 5_000);
      expect(after).toBeGreaterThanOrEqual(BUDGET * 0.9);
      expect(after).toBeLessThanOrEqual(BUDGET * 1.1);
      expect(watch.peakRate(5_000, killedAt)).toBeLessThanOrEqual(BUDGET * 1.1);

      console.info(
        "fleet:",
        JSON.stringify({
          budget: BUDGET,
          alone5s: Math.round(alone),
          four10s: Math.round(steady),
          peak5sOneToFour: Math.round(watch.peakRate(5_000, writingFrom)),
          rebalancedAfterMs: rebalanced.now - killedAt,
          survivors5s: Math.round(after),
          peak5sAfterKill: Math.round(watch.peakRate(5_000, killedAt)),
        }),
      );
      // A graceful stop releases the lease.
      await watch.stop();
      for (const m of survivors) m.cli.child.kill("SIGTERM");
      for (const m of survivors) expect((await m.cli.exited).code).toBe(0);
      const pids = survivors.map((m) => m.cli.child.pid);
      expect(
        await mongo.db.collection("sidecar_leases").countDocuments({ pid: { $in: pids } }),
      ).toBe(0);
    } finally {
      await watch.stop();
      await backlog.stop();
    }

    // The rest of the backlog, without a budget, then: every record exactly once.
    // The drain's last log lines, shown if it times out.
    const logs: string[] = [];
    const errorText = (_key: string, v: unknown) =>
      v instanceof Error ? `${v.name}: ${v.message}` : v;
    const keep = (level: string) => (obj: unknown, msg?: string) => {
      logs.push(`${level} ${msg ?? ""} ${JSON.stringify(obj, errorText)}`.slice(0, 400));
      if (logs.length > 15) logs.shift();
    };
    await rig.start({
      visibilityTimeoutSeconds: 10,
      // FerretDB answers the conflict check of redelivered records (a find by _id $in) with a
      // scan of the whole collection, which on the shared machine can pass the default 10 s;
      // each retry would scan again (see docs/sidecar.md, "MongoDB time limits").
      mongoTimeoutMs: 60_000,
      waitTimeSeconds: 1,
      logger: {
        debug: keep("debug"),
        info: keep("info"),
        warn: keep("warn"),
        error: keep("error"),
      },
    });
    const records = mongo.db.collection("records");
    const total = backlog.ids.length;
    await waitFor(
      "every record stored and the queue empty",
      async () => ({
        total,
        docs: await records.countDocuments(),
        queue: await queue.depth(),
        written: await rig.metric("auditq_sidecar_records_written_total"),
        duplicate: await rig.metric("auditq_sidecar_records_duplicate_total"),
        writeErrors: await rig.metric('auditq_sidecar_errors_total\\{stage="write"\\}'),
        ready: rig.sidecar.isReady(),
        logs,
      }),
      (s) => s.docs >= total && s.queue.visible + s.queue.inflight === 0,
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    expect(await records.countDocuments()).toBe(total);
    // _id is unique, so `total` documents holding every sent _id is each record exactly once.
    const stored = new Set(
      (await records.find({}, { projection: { _id: 1 } }).toArray()).map((d) => String(d._id)),
    );
    expect(backlog.ids.filter((id) => !stored.has(String(id)))).toEqual([]);
  }, 300_000);
});

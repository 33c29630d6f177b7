// kill -9 of the sidecar process at random moments of a 20,000-record stream: nothing lost or doubled.
import { describe, expect, it } from "vitest";
import { sendRecords } from "../../helpers/queue-records.js";
import { type SqsTarget, sqsTargets, waitFor } from "../../helpers/services.js";
import { ops } from "../../helpers/sidecar-cli.js";
import { useSidecarRig } from "../../helpers/sidecar-rig.js";

const target = sqsTargets()[0] as SqsTarget;

describe(`sidecar process under kill -9 (${target.name})`, () => {
  const rig = useSidecarRig(target);

  it("stores exactly 20,000 documents when killed three times mid-stream", async () => {
    const { queue, mongo } = rig;
    const total = 20_000;
    const sending = sendRecords(queue.sqs, queue.queueUrl, total, 50);
    const records = mongo.db.collection("records");
    const start = async () => {
      const { cli: c, port } = await rig.spawn({
        // Short, so that what a killed process held comes back quickly.
        AUDITQ_VISIBILITY_TIMEOUT_SECONDS: "4",
        AUDITQ_WAIT_TIME_SECONDS: "1",
        AUDITQ_BULK_SIZE: "200",
        // Capped, so that the stream lasts long enough to be killed in the middle of it.
        AUDITQ_MAX_WRITE_RATE: "2500",
      });
      return { c, port };
    };
    // Kill each process once it has written a random number of records (its own metric, cheap
    // to read), i.e. at a random moment of the stream.
    const thresholds = [0, 1, 2].map(() => 1_000 + Math.floor(Math.random() * 3_000));
    const kills: number[] = [];
    for (const threshold of thresholds) {
      const { c, port } = await start();
      await waitFor(
        `${threshold} records written by this process`,
        async () => {
          const text = (await ops(port, "/metrics")).body;
          return Number(/^auditq_sidecar_records_written_total (\S+)$/m.exec(text)?.[1] ?? 0);
        },
        (n) => n >= threshold,
        { timeoutMs: 60_000, intervalMs: 20 },
      );
      // While alive it reports ready.
      expect((await ops(port, "/readyz")).status).toBe(200);
      c.child.kill("SIGKILL");
      const { signal } = await c.exited;
      expect(signal).toBe("SIGKILL");
      kills.push(await records.countDocuments());
    }
    await sending;
    const { port } = await start();
    await waitFor(
      "all documents and an empty queue",
      async () => ({ docs: await records.countDocuments(), queue: await queue.depth() }),
      (s) => s.docs >= total && s.queue.visible + s.queue.inflight === 0,
      { timeoutMs: 90_000, intervalMs: 200 },
    );
    expect(await records.countDocuments()).toBe(total);
    // Each kill happened mid-stream: past its threshold, before the end.
    expect(
      kills.every((n, i) => n >= (thresholds[i] as number) && n < total),
      String(kills),
    ).toBe(true);
    const metrics = (await ops(port, "/metrics")).body;
    expect(metrics).toMatch(/auditq_sidecar_messages_deleted_total \d+/);
    // Longer than the default: with a write budget, each restarted process shares it with the
    // lease of the one just killed until that lease lapses (leaseLifetimeMs), by design.
  }, 180_000);
});

// kill -9 of the sidecar process at random moments of a 20,000-record stream: nothing lost or doubled.
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
import { type CliProcess, ops, sendRecords, spawnCli } from "./sidecar-fixtures.js";

const target = sqsTargets()[0] as SqsTarget;

describe(`sidecar process under kill -9 (${target.name})`, () => {
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

  it("stores exactly 20,000 documents when killed three times mid-stream", async () => {
    const total = 20_000;
    const sending = sendRecords(queue.sqs, queue.queueUrl, total, 50);
    const records = mongo.db.collection("records");
    const start = async () => {
      const port = await freePort();
      const c = spawnCli(target.endpoint, {
        AUDITQ_QUEUE_URL: queue.queueUrl,
        AUDITQ_MONGODB_URI: mongoUri(),
        AUDITQ_DATABASE: mongo.name,
        AUDITQ_METRICS_PORT: String(port),
        // Short, so that what a killed process held comes back quickly.
        AUDITQ_VISIBILITY_TIMEOUT_SECONDS: "4",
        AUDITQ_WAIT_TIME_SECONDS: "1",
        AUDITQ_BULK_SIZE: "200",
        // Capped, so that the stream lasts long enough to be killed in the middle of it.
        AUDITQ_MAX_WRITE_RATE: "2500",
      });
      children.push(c);
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
  });
});

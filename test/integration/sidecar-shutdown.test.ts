// Process and SQS faults on real services: SIGTERM under load, bad configuration, SQS down.
import { CreateQueueCommand } from "@aws-sdk/client-sqs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSidecar } from "../../sidecar/index.js";
import { silentLogger } from "../helpers/logger.js";
import { metricValue } from "../helpers/metric-value.js";
import { freePort, privateElasticMQ } from "../helpers/processes.js";
import { sendRecords } from "../helpers/queue-records.js";
import {
  createTestDb,
  createTestQueue,
  mongoUri,
  type SqsTarget,
  sqsClient,
  sqsTargets,
  type TestDb,
  type TestQueue,
  uniqueName,
  waitFor,
} from "../helpers/services.js";
import { type CliProcess, ops, spawnCli } from "../helpers/sidecar-cli.js";
import { testSidecar } from "../helpers/sidecar-rig.js";

const target = sqsTargets()[0] as SqsTarget;

describe(`sidecar shutdown and SQS faults (${target.name})`, () => {
  let queue: TestQueue;
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeEach(async () => {
    queue = await createTestQueue(target);
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await queue.dispose();
  });

  it("on SIGTERM under load exits within the deadline, releases what it held, loses nothing", async () => {
    const mongo: TestDb = await createTestDb();
    cleanups.push(() => mongo.dispose());
    const records = mongo.db.collection("records");
    const total = 6_000;
    await sendRecords(queue.sqs, queue.queueUrl, total);
    const port = await freePort();
    const cli: CliProcess = spawnCli(target.endpoint, {
      AUDITQ_QUEUE_URL: queue.queueUrl,
      AUDITQ_MONGODB_URI: mongoUri(),
      AUDITQ_DATABASE: mongo.name,
      AUDITQ_METRICS_PORT: String(port),
      AUDITQ_WAIT_TIME_SECONDS: "1",
      AUDITQ_MAX_WRITE_RATE: "1000",
      AUDITQ_SHUTDOWN_TIMEOUT_MS: "5000",
      AUDITQ_VISIBILITY_TIMEOUT_SECONDS: "8",
      AUDITQ_LOG_LEVEL: "info",
    });
    cleanups.push(async () => {
      if (cli.child.exitCode === null) cli.child.kill("SIGKILL");
      await cli.exited;
    });
    await waitFor(
      "1,000 documents",
      () => records.countDocuments(),
      (n) => n >= 1_000,
    );
    expect((await ops(port, "/readyz")).status).toBe(200);
    const metrics = (await ops(port, "/metrics")).body;
    expect(metricValue(metrics, "auditq_sidecar_fleet_budget_records_per_second")).toBe(1000);
    // Alone in its fleet: the whole budget is its share.
    expect(metricValue(metrics, "auditq_sidecar_fleet_members")).toBe(1);
    expect(metricValue(metrics, "auditq_sidecar_write_share_records_per_second")).toBe(1000);
    // Its lease, and the split document it writes as the fleet's only member.
    const leases = mongo.db.collection<{ _id: string }>("sidecar_leases");
    expect(await leases.countDocuments({ renewedAt: { $exists: true } })).toBe(1);
    expect(await leases.countDocuments({ _id: { $regex: "^split:" } })).toBe(1);
    expect(metrics).toMatch(/auditq_sidecar_queue_messages\{state="inflight"\} \d+/);

    const signalled = Date.now();
    cli.child.kill("SIGTERM");
    const { code } = await cli.exited;
    const tookMs = Date.now() - signalled;
    expect(code).toBe(0);
    expect(tookMs).toBeLessThan(5_000 + 2_000);
    // The lease and the split it held are released as part of the stop, not left to lapse.
    expect(await leases.countDocuments()).toBe(0);
    const written = await records.countDocuments();
    expect(written).toBeLessThan(total); // it was stopped under load
    const released = /"released":(\d+)/.exec(cli.output());
    expect(Number(released?.[1] ?? 0), cli.output()).toBeGreaterThan(0);
    // Released, not left to time out: visible again at once. A long poll aborted by the stop may
    // still be open on the server and take up to 10 messages per poller from what was released;
    // those come back after the visibility timeout. Nothing is lost either way.
    const after = await queue.depth();
    expect(after.visible).toBeGreaterThanOrEqual(Number(released?.[1]) - 2 * 10);
    expect(after.visible).toBeGreaterThan(0);

    const next = testSidecar(target, queue, mongo);
    cleanups.push(() => next.stop());
    await next.start();
    await waitFor(
      "every record",
      async () => ({ docs: await records.countDocuments(), queue: await queue.depth() }),
      (s) => s.docs >= total && s.queue.visible + s.queue.inflight === 0,
      { timeoutMs: 40_000, intervalMs: 200 },
    );
    expect(await records.countDocuments()).toBe(total);
  });

  it("exits with code 2 and names the setting on bad configuration; --help lists settings, --version the version", async () => {
    const bad = spawnCli(target.endpoint, {
      AUDITQ_QUEUE_URL: queue.queueUrl,
      AUDITQ_MONGODB_URI: mongoUri(),
      AUDITQ_MAX_WRITE_RATE: "fast",
    });
    expect((await bad.exited).code).toBe(2);
    expect(bad.output()).toContain('AUDITQ_MAX_WRITE_RATE (--max-write-rate)="fast" is malformed');
    const help = spawnCli(target.endpoint, {}, ["--help"]);
    expect((await help.exited).code).toBe(0);
    expect(help.output()).toMatch(/--max-write-rate <value>\s+AUDITQ_MAX_WRITE_RATE/);
    const version = spawnCli(target.endpoint, {}, ["--version"]);
    expect((await version.exited).code).toBe(0);
    expect(version.output().trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("exits with code 2 on a malformed MongoDB URI and never prints its password", async () => {
    const bad = spawnCli(target.endpoint, {
      AUDITQ_QUEUE_URL: queue.queueUrl,
      AUDITQ_MONGODB_URI: "mongdb://admin:S3cretPassw0rd@db.example:27017/",
    });
    expect((await bad.exited).code).toBe(2);
    expect(bad.output()).toContain("AUDITQ_MONGODB_URI (--mongodb-uri)");
    expect(bad.output()).toContain("db.example:27017");
    expect(bad.output()).not.toContain("S3cretPassw0rd");
  });

  it("backs off while SQS is down, reports not ready, and resumes when it is back", async () => {
    const elasticmq = await privateElasticMQ();
    cleanups.push(() => elasticmq.dispose());
    await elasticmq.start();
    const sqs = sqsClient({ name: "private", endpoint: elasticmq.url });
    cleanups.push(async () => sqs.destroy());
    const name = uniqueName("auditq-sqs-down");
    const create = async () =>
      (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl as string;
    const queueUrl = await create();
    const mongo: TestDb = await createTestDb();
    cleanups.push(() => mongo.dispose());
    const records = mongo.db.collection("records");
    const sidecar = createSidecar({
      queueUrl,
      mongo: mongoUri(),
      database: mongo.name,
      sqs: sqsClient({ name: "private", endpoint: elasticmq.url }),
      waitTimeSeconds: 1,
      logger: silentLogger,
    });
    cleanups.push(() => sidecar.stop());
    await sidecar.start();
    await sendRecords(sqs, queueUrl, 500);
    await waitFor(
      "500 documents",
      () => records.countDocuments(),
      (n) => n >= 500,
    );

    await elasticmq.stop({ kill: true });
    await waitFor(
      "not ready",
      async () => sidecar.isReady(),
      (r) => !r,
      { timeoutMs: 20_000 },
    );
    const receiveErrors = async () =>
      metricValue(
        await sidecar.registry.getSingleMetricAsString("auditq_sidecar_errors_total"),
        'auditq_sidecar_errors_total\\{stage="receive"\\}',
      );
    const before = await receiveErrors();
    await waitFor("a few more failed receives", receiveErrors, (n) => n >= before + 3, {
      timeoutMs: 20_000,
    });
    // ElasticMQ keeps queues in memory: the restarted one is empty and has to be made again.
    await elasticmq.start();
    expect(await create()).toBe(queueUrl);
    await sendRecords(sqs, queueUrl, 500);
    await waitFor(
      "ready again",
      async () => sidecar.isReady(),
      (r) => r,
      { timeoutMs: 45_000 },
    );
    await waitFor(
      "1,000 documents",
      () => records.countDocuments(),
      (n) => n >= 1_000,
      {
        timeoutMs: 45_000,
      },
    );
    expect(await records.countDocuments()).toBe(1_000);
    // Capped exponential backoff: far fewer failed receives than a hot loop would make.
    expect(await receiveErrors()).toBeLessThan(30);
  });
});

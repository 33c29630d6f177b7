import { MongoClient } from "mongodb";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SIDECAR_OPTIONS } from "../../../sidecar/config/option-table.js";
import { createSidecar, type Sidecar } from "../../../sidecar/index.js";
import { silentLogger } from "../../helpers/logger.js";
import { metricValue } from "../../helpers/metric-value.js";
import { privateFerretDB, type ServiceProcess } from "../../helpers/processes.js";
import { sendRecords } from "../../helpers/queue-records.js";
import {
  createTestQueue,
  type SqsTarget,
  sqsClient,
  sqsTargets,
  type TestQueue,
  uniqueName,
  waitFor,
} from "../../helpers/services.js";

const target = sqsTargets()[0] as SqsTarget;

describe(`sidecar faults (${target.name})`, () => {
  let queue: TestQueue;
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeEach(async () => {
    queue = await createTestQueue(target);
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await queue.dispose();
  });

  it("loses nothing when MongoDB is down for 15 s mid-stream; readiness goes false, then true", async () => {
    const ferret: ServiceProcess = await privateFerretDB();
    cleanups.push(() => ferret.dispose());
    await ferret.start();
    const database = uniqueName("auditq_outage").replace(/-/g, "_");
    const client = new MongoClient(ferret.url, { serverSelectionTimeoutMS: 30_000 });
    cleanups.push(() => client.close());
    const records = client.db(database).collection("records");

    const sidecar: Sidecar = createSidecar({
      queueUrl: queue.queueUrl,
      mongo: ferret.url,
      database,
      sqs: sqsClient(target),
      waitTimeSeconds: 1,
      visibilityTimeoutSeconds: 10,
      maxWriteRate: 1_000,
      logger: silentLogger,
    });
    cleanups.push(() => sidecar.stop());
    await sendRecords(queue.sqs, queue.queueUrl, 6_000);
    await sidecar.start();
    await waitFor(
      "ready",
      async () => sidecar.isReady(),
      (r) => r,
    );
    await waitFor(
      "1,000 documents",
      () => records.countDocuments(),
      (n) => n >= 1_000,
    );

    await ferret.stop({ kill: true });
    const down = Date.now();
    await waitFor(
      "not ready",
      async () => sidecar.isReady(),
      (r) => !r,
      { timeoutMs: 15_000 },
    );
    const errorsAtDown = await sidecar.registry.getSingleMetricAsString(
      "auditq_sidecar_errors_total",
    );
    // Mid-stream: more records arrive while MongoDB is away.
    await sendRecords(queue.sqs, queue.queueUrl, 2_000);
    // The outage itself lasts 15 s; this wait is the fault being injected, not synchronisation.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 15_000 - (Date.now() - down))));
    expect(sidecar.isReady()).toBe(false);
    await ferret.start();

    await waitFor(
      "ready again",
      async () => sidecar.isReady(),
      (r) => r,
      { timeoutMs: 60_000 },
    );
    await waitFor(
      "8,000 documents and an empty queue",
      async () => ({ docs: await records.countDocuments(), queue: await queue.depth() }),
      (s) => s.docs >= 8_000 && s.queue.visible + s.queue.inflight === 0,
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    expect(await records.countDocuments()).toBe(8_000);
    // Backoff, not a hot loop: a handful of failed writes and probes over 15 s.
    const errors = await sidecar.registry.getSingleMetricAsString("auditq_sidecar_errors_total");
    const writeErrors = metricValue(errors, 'auditq_sidecar_errors_total\\{stage="write"\\}');
    expect(writeErrors).toBeGreaterThan(0);
    expect(writeErrors).toBeLessThan(20);
    expect(errorsAtDown).toBeDefined();
    // A 15 s outage, then up to 60 s to be ready and 60 s to drain (took 32–54 s here): not
    // the default 60 s.
  }, 180_000);

  it("starts with MongoDB down without failing, backs off, and becomes ready when it comes up", async () => {
    const ferret: ServiceProcess = await privateFerretDB();
    cleanups.push(() => ferret.dispose());
    const warnings: string[] = [];
    const sidecar = createSidecar({
      queueUrl: queue.queueUrl,
      mongo: ferret.url,
      sqs: sqsClient(target),
      waitTimeSeconds: 1,
      retentionDays: 30,
      logger: { ...silentLogger, warn: (_obj, msg) => warnings.push(msg ?? "") },
    });
    cleanups.push(() => sidecar.stop());
    await sidecar.start();
    const bootstrapErrors = async () =>
      metricValue(
        await sidecar.registry.getSingleMetricAsString("auditq_sidecar_errors_total"),
        'auditq_sidecar_errors_total\\{stage="bootstrap"\\}',
      );
    await waitFor("a failed start attempt", bootstrapErrors, (n) => n >= 1, { timeoutMs: 20_000 });
    expect(sidecar.isReady()).toBe(false);
    await ferret.start();
    await waitFor(
      "ready",
      async () => sidecar.isReady(),
      (r) => r,
      { timeoutMs: 45_000 },
    );
    // The default secondary indexes were created; retention is the paced sweep, not a TTL index
    // (which FerretDB refuses), so nothing was refused.
    const client = new MongoClient(ferret.url);
    cleanups.push(() => client.close());
    const indexes = await client.db("auditq").collection("records").indexes();
    const names = indexes.map((i) => i.name);
    expect(names).toEqual(
      expect.arrayContaining(["actor.id_1__id_-1", "action_1__id_-1", "seq.stream_1_seq.n_1"]),
    );
    expect(names).toHaveLength(SIDECAR_OPTIONS.indexes.default.length + 1); // and `_id_`
    expect(indexes.filter((i) => i.expireAfterSeconds !== undefined)).toEqual([]);
    expect(warnings).not.toContainEqual(expect.stringMatching(/refused/));
  });
});

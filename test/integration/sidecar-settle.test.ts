// Settling on real services: deletes go in calls of up to 10 messages across bulks, counted on
// the wire, and nothing is lost or written twice.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Sidecar } from "../../sidecar/index.js";
import { metricValue } from "../helpers/metric-value.js";
import { sendRecords } from "../helpers/queue-records.js";
import {
  createTestDb,
  createTestQueue,
  type SqsTarget,
  sqsTargets,
  type TestDb,
  type TestQueue,
  waitFor,
} from "../helpers/services.js";
import { testSidecar } from "../helpers/sidecar-rig.js";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy.js";

const MESSAGES = 20;
const PER_MESSAGE = 300;
/** Smaller than a message: each bulk completes at most one message, as with 1 MiB messages. */
const BULK = 100;

describe.each(sqsTargets())("settling on $name", (target: SqsTarget) => {
  let queue: TestQueue;
  let mongo: TestDb;
  let proxy: TcpProxy;
  let sidecar: Sidecar | undefined;
  /** SQS operations the sidecar sent through the proxy, read off the wire by their header. */
  const onWire = new Map<string, number>();

  beforeEach(async () => {
    queue = await createTestQueue(target);
    mongo = await createTestDb();
    onWire.clear();
    proxy = await startTcpProxy(target.endpoint, 0, (chunk) => {
      for (const m of chunk.toString("latin1").matchAll(/x-amz-target: *AmazonSQS\.(\w+)/gi)) {
        const operation = m[1] as string;
        onWire.set(operation, (onWire.get(operation) ?? 0) + 1);
      }
    });
  });

  afterEach(async () => {
    await sidecar?.stop();
    sidecar = undefined;
    await proxy.close();
    await queue.dispose();
    await mongo.dispose();
  });

  it("deletes messages settled in different bulks together, each exactly once", async () => {
    const ids = await sendRecords(queue.sqs, queue.queueUrl, MESSAGES * PER_MESSAGE, PER_MESSAGE);
    const collection = mongo.db.collection("records");
    sidecar = testSidecar({ ...target, endpoint: proxy.url }, queue, mongo, {
      bulkSize: BULK,
      bulkWaitMs: 0,
      indexes: [],
    });
    await sidecar.start();
    await waitFor(
      "every record stored and the queue empty",
      async () => ({ docs: await collection.countDocuments(), queue: await queue.depth() }),
      (s) => s.docs >= ids.length && s.queue.visible + s.queue.inflight === 0,
    );
    await sidecar.stop();

    const stored = await collection.find({}, { projection: { _id: 1 } }).toArray();
    expect(stored).toHaveLength(ids.length);
    expect(new Set(stored.map((d) => String(d._id)))).toEqual(new Set(ids.map(String)));
    const metrics = await sidecar.registry.metrics();
    expect(metricValue(metrics, "auditq_sidecar_messages_deleted_total")).toBe(MESSAGES);
    expect(metricValue(metrics, "auditq_sidecar_records_written_total")).toBe(ids.length);
    expect(metricValue(metrics, "auditq_sidecar_records_duplicate_total")).toBe(0);
    expect(metricValue(metrics, "auditq_sidecar_messages_released_total")).toBe(0);

    // One call per message before (each bulk settled its own); 10 messages per call now. The
    // pollers receive up to 10 messages at a time, so a few calls may go out part-filled.
    const deletes = onWire.get("DeleteMessageBatch") ?? 0;
    expect(deletes).toBeGreaterThanOrEqual(MESSAGES / 10);
    expect(deletes).toBeLessThanOrEqual(MESSAGES / 10 + 2);
    expect(
      metricValue(
        metrics,
        'auditq_sidecar_sqs_requests_total\\{operation="DeleteMessageBatch",outcome="ok"\\}',
      ),
    ).toBe(deletes);
  });
});

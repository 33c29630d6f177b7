// The ops server: bound where it is told, and /metrics scrapes that do not turn into SQS calls.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { DeleteQueueCommand } from "@aws-sdk/client-sqs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startOpsServer } from "../../sidecar/http.js";
import type { Sidecar } from "../../sidecar/index.js";
import { DEPTH_MAX_AGE_MS } from "../../sidecar/receive/depth-cache.js";
import { metricValue } from "../helpers/metric-value.js";
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

const target = sqsTargets()[0] as SqsTarget;
const DEPTH_CALLS =
  'auditq_sidecar_sqs_requests_total\\{operation="GetQueueAttributes",outcome="ok"\\}';

describe(`ops server (${target.name})`, () => {
  let queue: TestQueue;
  let mongo: TestDb;
  let sidecar: Sidecar;
  let server: Server;
  let port: number;
  let queueDeleted = false;

  beforeEach(async () => {
    queue = await createTestQueue(target);
    queueDeleted = false;
    mongo = await createTestDb();
    sidecar = testSidecar(target, queue, mongo);
    await sidecar.start();
    // 300 concurrent scrapes below: a cap above them.
    server = await startOpsServer(sidecar.registry, () => sidecar.isReady(), {
      port: 0,
      host: "127.0.0.1",
      maxConnections: 1_000,
    });
    port = (server.address() as AddressInfo).port;
    await waitFor(
      "ready",
      async () => sidecar.isReady(),
      (r) => r,
    );
  });

  afterEach(async () => {
    server.close();
    server.closeAllConnections();
    await sidecar.stop();
    if (queueDeleted) queue.sqs.destroy();
    else await queue.dispose();
    await mongo.dispose();
  });

  const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();

  it("binds the host it is given", () => {
    expect((server.address() as AddressInfo).address).toBe("127.0.0.1");
  });

  it("answers 300 concurrent scrapes with one GetQueueAttributes call per 5 s", async () => {
    const before = metricValue(await sidecar.registry.metrics(), DEPTH_CALLS);
    const started = performance.now();
    const bodies = await Promise.all(Array.from({ length: 300 }, scrape));
    const elapsedMs = performance.now() - started;
    const after = metricValue(await sidecar.registry.metrics(), DEPTH_CALLS);
    // One call, plus one per 5 s the scrapes took on a busy machine (without the cache: 300).
    expect(after - before).toBeLessThanOrEqual(1 + Math.floor(elapsedMs / DEPTH_MAX_AGE_MS));
    for (const body of bodies) {
      expect(body).toMatch(/^auditq_sidecar_queue_messages\{state="visible"\} \d+$/m);
    }
  });

  it("counts failed depth reads and shows no stale depth meanwhile", async () => {
    expect(await scrape()).toMatch(/^auditq_sidecar_queue_messages\{state="visible"\} 0$/m);
    await queue.sqs.send(new DeleteQueueCommand({ QueueUrl: queue.queueUrl }));
    queueDeleted = true;
    // The reading is reused for 5 s; after that the next read fails.
    const text = await waitFor(
      "a failed depth read",
      scrape,
      (t) => metricValue(t, "auditq_sidecar_queue_depth_read_failures_total") >= 1,
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    expect(text).not.toMatch(/^auditq_sidecar_queue_messages\{/m);
  });
});

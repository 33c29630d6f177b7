// A SendMessageBatch call that never gets an answer (a black-holed connection) is abandoned at
// its deadline and retried, so sending resumes: once by the batcher's own deadline (whatever
// the client), once by the request timeout of the SQS client auditq builds.

import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { ObjectId } from "bson";
import { Registry } from "prom-client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Batcher } from "../../middleware/batcher/batcher.js";
import { createClients } from "../../middleware/config/clients.js";
import { createMiddlewareMetrics } from "../../middleware/config/metrics.js";
import { resolveOptions } from "../../middleware/config/resolve.js";
import type { AuditqError } from "../../shared/util/errors.js";
import { silentLogger } from "../helpers/logger.js";
import {
  createTestQueue,
  sqsClient,
  sqsTargets,
  type TestQueue,
  waitFor,
} from "../helpers/services.js";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy.js";

// The bug this guards against: on Node 20 a signal composed with AbortSignal.any() can be
// garbage-collected, and its timeout with it. Collecting garbage while the call hangs makes
// that failure certain instead of likely.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

describe.each(sqsTargets())("a black-holed SendMessageBatch on $name", (target) => {
  let queue: TestQueue;
  let proxy: TcpProxy;
  let batcher: Batcher | undefined;

  beforeEach(async () => {
    queue = await createTestQueue(target);
    proxy = await startTcpProxy(target.endpoint);
  });

  afterEach(async () => {
    await batcher?.close(1000);
    batcher = undefined;
    await proxy.close();
    await queue.dispose();
  });

  function start(sqs: SQSClient, sendTimeoutMs: number, errors: AuditqError[]): Batcher {
    return new Batcher({
      sqs,
      queueUrl: queue.queueUrl,
      lingerMs: 20,
      maxMessageBytes: 262_144,
      maxBatchBytes: 262_144,
      maxBufferBytes: 4 * 1024 * 1024,
      maxInflight: 4,
      retry: { baseMs: 50, maxMs: 200 },
      logger: silentLogger,
      metrics: createMiddlewareMetrics(new Registry()),
      onError: (err) => errors.push(err),
      sendTimeoutMs,
    });
  }

  /** Sends a first record through, holds the next call, and checks that sending resumes. */
  async function holdOneCallThenResume(b: Batcher, errors: AuditqError[]) {
    b.add({ _id: new ObjectId(), action: "before" });
    await b.flush();
    proxy.blackhole(1);
    const added = 50;
    for (let i = 0; i < added; i++) b.add({ _id: new ObjectId(), action: "during", i });
    await waitFor(
      "a call to be held by the proxy",
      async () => proxy.blackholed,
      (n) => n === 1,
      { timeoutMs: 10_000, intervalMs: 20 },
    );
    const gcTimer = setInterval(gc, 50);
    try {
      await b.flush();
    } finally {
      clearInterval(gcTimer);
    }
    const report = await b.close(5000);
    expect(report).toEqual({ sent: added + 1, spooled: 0, dropped: 0 });
    expect(errors.map((e) => e.code)).toEqual(["ERR_AUDITQ_SQS"]);
    const depth = await queue.depth();
    expect(depth.visible).toBeGreaterThanOrEqual(2);
  }

  it("the batcher's own deadline abandons the call, with a client that has no timeout", async () => {
    const errors: AuditqError[] = [];
    batcher = start(sqsClient({ name: "proxy", endpoint: proxy.url }), 1500, errors);
    await holdOneCallThenResume(batcher, errors);
    expect(errors[0]?.message).toMatch(/SQS send failed/);
  }, 30_000);

  it("the client auditq builds times the request out by itself", async () => {
    const errors: AuditqError[] = [];
    const { sqs } = createClients(
      resolveOptions({
        queueUrl: queue.queueUrl,
        sqs: { endpoint: proxy.url },
        sendTimeoutMs: 1500,
      }),
    );
    // The batcher's deadline is far away: only the client's request timeout can end the call.
    batcher = start(sqs, 600_000, errors);
    await holdOneCallThenResume(batcher, errors);
    expect(String((errors[0]?.cause as Error | undefined)?.message)).toMatch(/requestTimeout/);
  }, 30_000);
});

// Memory stays bounded through an outage under load: the buffer never passes maxBufferBytes,
// the spool never passes spool.maxBytes, and the rest is dropped and counted, never queued.
// The issue asks for 60 s; 15 s fits the test budget and already shows the bound (the heap
// would grow by hundreds of MB in 15 s without it). The precise measurement is in bench/batcher.ts.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { ObjectId } from "bson";
import { Registry } from "prom-client";
import { afterEach, beforeEach, expect, it } from "vitest";
import { Batcher } from "../../middleware/batcher.js";
import { createMiddlewareMetrics } from "../../middleware/metrics.js";
import { silentLogger } from "../helpers/logger.js";
import { freePort } from "../helpers/processes.js";
import { sqsClient } from "../helpers/services.js";

const OUTAGE_MS = 15_000;
const MAX_BUFFER = 2 * 1024 * 1024;
const MAX_SPOOL = 4 * 1024 * 1024;
/** Loose allowance for the SDK, zlib, the spool's index and the test's own bookkeeping. */
const OVERHEAD = 32 * 1024 * 1024;

/** Retained heap: heapUsed right after a full garbage collection. */
function retainedHeap(): number {
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
  return process.memoryUsage().heapUsed;
}

let spoolDir: string;
beforeEach(() => {
  spoolDir = mkdtempSync(join(tmpdir(), "auditq-memory-"));
});
afterEach(() => {
  rmSync(spoolDir, { recursive: true, force: true });
});

it(
  "keeps memory under maxBufferBytes plus a fixed overhead while SQS is down",
  async () => {
    const down = `http://127.0.0.1:${await freePort()}`;
    const registry = new Registry();
    const metrics = createMiddlewareMetrics(registry);
    const batcher = new Batcher({
      sqs: sqsClient({ name: "down", endpoint: down }),
      queueUrl: `${down}/000000000000/q`,
      lingerMs: 200,
      maxMessageBytes: 262_144,
      maxBatchBytes: 262_144,
      maxBufferBytes: MAX_BUFFER,
      maxInflight: 4,
      retry: { baseMs: 100, maxMs: 2000 },
      logger: silentLogger,
      metrics,
      onError: () => undefined,
      spool: { dir: spoolDir, maxBytes: MAX_SPOOL, afterMs: 1000 },
    });
    // Random text: compression cannot shrink it, so the spool fills as it would in a long outage.
    const pads = Array.from({ length: 1024 }, () => randomBytes(400).toString("base64"));
    const pad = pads[0] as string;
    const baseline = retainedHeap();
    let peakHeap = baseline;
    let peakBuffer = 0;
    let added = 0;
    const end = Date.now() + OUTAGE_MS;
    while (Date.now() < end) {
      for (let i = 0; i < 400; i++) {
        batcher.add({
          _id: new ObjectId(),
          ts: new Date(),
          action: "POST /orders",
          n: added,
          pad: pads[added % pads.length],
        });
        added++;
      }
      peakBuffer = Math.max(peakBuffer, batcher.memoryBytes());
      if (added % 20_000 === 0) peakHeap = Math.max(peakHeap, retainedHeap());
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const dropped = await metrics.recordsDropped.get();
    const droppedBy = Object.fromEntries(dropped.values.map((v) => [v.labels.reason, v.value]));
    const spoolGauge = await registry.getSingleMetric("auditq_spool_bytes")?.get();
    const spoolBytes = spoolGauge?.values[0]?.value ?? 0;
    const report = await batcher.close(1000);

    // Without the bound, 15 s of this load would hold hundreds of MB of serialized records.
    expect(added * pad.length).toBeGreaterThan(100 * 1024 * 1024);
    expect(peakBuffer).toBeLessThanOrEqual(MAX_BUFFER);
    expect(peakHeap - baseline).toBeLessThan(MAX_BUFFER + OVERHEAD);
    expect(spoolBytes).toBeGreaterThan(0);
    expect(spoolBytes).toBeLessThanOrEqual(MAX_SPOOL);
    expect(droppedBy.spool_full).toBeGreaterThan(0);
    expect(report.spooled).toBeGreaterThan(0);
  },
  OUTAGE_MS + 30_000,
);

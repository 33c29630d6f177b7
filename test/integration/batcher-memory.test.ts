// Memory stays bounded through an outage under load: the buffer never passes maxBufferBytes,
// the spool never passes spool.maxBytes, and the rest is dropped and counted, never queued.
// The issue asks for 60 s; at least 15 s fits the test budget and already shows the bound. The
// outage lasts until a fixed load has been pushed (longer on a slow or busy machine), so the
// test never passes for want of pressure. The precise measurement is in bench/batcher.ts.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { ObjectId } from "bson";
import { Registry } from "prom-client";
import { afterEach, beforeEach, expect, it } from "vitest";
import { createMiddlewareMetrics } from "../../middleware/config/metrics.js";
import { FULL_CALL, testBatcher } from "../helpers/batcher-config.js";
import { freePort } from "../helpers/processes.js";
import { sqsClient } from "../helpers/services.js";

const OUTAGE_MS = 15_000;
const MAX_BUFFER = 2 * 1024 * 1024;
const MAX_SPOOL = 4 * 1024 * 1024;
/** Loose allowance for the SDK, zlib, the spool's index and the test's own bookkeeping. */
const OVERHEAD = 32 * 1024 * 1024;
/**
 * Load the outage must see: three times everything the test allows to be held, so that without
 * the bounds the assertions below would fail by far. A slow machine gets more time to reach it.
 */
const LOAD_BYTES = 3 * (MAX_BUFFER + MAX_SPOOL + OVERHEAD);
const MAX_OUTAGE_MS = 60_000;

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
    const { batcher } = testBatcher(sqsClient({ name: "down", endpoint: down }), {
      ...FULL_CALL,
      queueUrl: `${down}/000000000000/q`,
      maxBufferBytes: MAX_BUFFER,
      maxInflight: 4,
      retry: { baseMs: 100, maxMs: 2000 },
      metrics,
      // Nothing kept: the errors would be heap the measurement counts.
      onError: () => undefined,
      // The option's default, as an app runs it (testBatcher's is "identity").
      compression: undefined,
      spool: { dir: spoolDir, maxBytes: MAX_SPOOL, afterMs: 1000 },
    });
    // Random text: compression cannot shrink it, so the spool fills as it would in a long outage.
    const pads = Array.from({ length: 1024 }, () => randomBytes(400).toString("base64"));
    const pad = pads[0] as string;
    const baseline = retainedHeap();
    let peakHeap = baseline;
    let peakBuffer = 0;
    let added = 0;
    const start = Date.now();
    const loaded = () => added * pad.length >= LOAD_BYTES;
    while ((Date.now() - start < OUTAGE_MS || !loaded()) && Date.now() - start < MAX_OUTAGE_MS) {
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

    // Without the bounds, this load would hold several times what the test allows.
    expect(added * pad.length).toBeGreaterThanOrEqual(LOAD_BYTES);
    expect(peakBuffer).toBeLessThanOrEqual(MAX_BUFFER);
    expect(peakHeap - baseline).toBeLessThan(MAX_BUFFER + OVERHEAD);
    expect(spoolBytes).toBeGreaterThan(0);
    expect(spoolBytes).toBeLessThanOrEqual(MAX_SPOOL);
    expect(droppedBy.spool_full).toBeGreaterThan(0);
    expect(report.spooled).toBeGreaterThan(0);
  },
  MAX_OUTAGE_MS + 30_000,
);

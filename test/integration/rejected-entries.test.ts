// What SQS refuses costs only the record that caused it: a spool segment from before bodies
// were escaped (raw U+FFFF) is delivered, and a message SQS rejects is re-packed so that only a
// record it refuses alone is quarantined (onError and auditq_records_dropped_total{rejected}).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { ObjectId } from "bson";
import { Registry } from "prom-client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Batcher, type BatcherConfig } from "../../middleware/batcher/batcher.js";
import { createMiddlewareMetrics } from "../../middleware/config/metrics.js";
import { Spool } from "../../middleware/spool/spool.js";
import type { AuditqError } from "../../shared/util/errors.js";
import { envelopeAttributes, envelopeBody } from "../../shared/wire/envelope.js";
import { serializeRecord } from "../../shared/wire/record-json.js";
import { messageBytes } from "../../shared/wire/sqs-limits.js";
import { silentLogger } from "../helpers/logger.js";
import { createTestQueue, sqsClient, sqsTargets, type TestQueue } from "../helpers/services.js";

function batcher(sqs: SQSClient, queueUrl: string, more: Partial<BatcherConfig>) {
  const errors: AuditqError[] = [];
  const metrics = createMiddlewareMetrics(new Registry());
  const b = new Batcher({
    sqs,
    queueUrl,
    lingerMs: 20,
    maxMessageBytes: 262_144,
    maxBatchBytes: 262_144,
    maxBufferBytes: 4 * 1024 * 1024,
    maxInflight: 2,
    retry: { baseMs: 50, maxMs: 500 },
    logger: silentLogger,
    metrics,
    onError: (err) => errors.push(err),
    ...more,
  });
  return { b, errors, metrics };
}

describe.each(sqsTargets())("records SQS refuses on $name", (target) => {
  let queue: TestQueue | undefined;
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "auditq-rejected-"));
  });

  afterEach(async () => {
    await queue?.dispose();
    queue = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it("a spooled message with a raw U+FFFF, written by an older version, is delivered", async () => {
    queue = await createTestQueue(target);
    const old = await Spool.open({
      dir: join(dir, "slot-0"),
      maxBytes: 1 << 20,
      logger: silentLogger,
    });
    const jsons = Array.from({ length: 41 }, (_, i) =>
      serializeRecord({ _id: new ObjectId(), i, text: i === 20 ? "end\uFFFF" : "ok" }),
    );
    const body = envelopeBody(jsons);
    const attributes = envelopeAttributes("identity");
    expect(body).toContain("\uFFFF"); // as JSON.stringify writes it: raw
    await old.append([
      {
        body,
        encoding: "identity",
        attributes,
        records: 41,
        bytes: messageBytes(body, attributes),
      },
    ]);
    await old.close();

    const { b, errors } = batcher(sqsClient(target), queue.queueUrl, {
      spool: { dir, maxBytes: 1 << 20, afterMs: 0 },
    });
    await b.flush();
    expect(await b.close(5000)).toEqual({ sent: 41, spooled: 0, dropped: 0 });
    expect(errors).toEqual([]);
  });

  it.runIf(target.name === "fauxqs")(
    "a message SQS rejects is re-packed; the one record it refuses alone is quarantined",
    async () => {
      // fauxqs enforces MaximumMessageSize per entry, as SQS does; the batcher is told 256 KiB.
      queue = await createTestQueue(target, { MaximumMessageSize: "1024" });
      const { b, errors, metrics } = batcher(sqsClient(target), queue.queueUrl, {
        compression: "identity",
      });
      for (let i = 0; i < 30; i++) b.add({ _id: new ObjectId(), i, pad: "x".repeat(60) });
      b.add({ _id: new ObjectId(), i: "big", pad: "y".repeat(1500) });
      await b.flush();
      expect(await b.close(5000)).toEqual({ sent: 30, spooled: 0, dropped: 0 });
      expect(errors.map((e) => e.details.reason)).toEqual(["rejected"]);
      expect(JSON.parse(errors[0]?.details.record as string)).toMatchObject({ i: "big" });
      const dropped = await metrics.recordsDropped.get();
      expect(dropped.values.filter((v) => v.value > 0)).toEqual([
        expect.objectContaining({ labels: { reason: "rejected" }, value: 1 }),
      ]);
      const depth = await queue.depth();
      expect(depth.visible).toBeGreaterThan(1);
    },
  );
});

// Packing and retry logic of the batcher, against a stub SQS client (pure logic only; delivery
// itself is proven by the integration tests on real SQS servers).

import { randomBytes } from "node:crypto";
import type { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { ObjectId } from "bson";
import { Registry } from "prom-client";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createMiddlewareMetrics } from "../../../../middleware/config/metrics.js";
import { sqsSafeJson } from "../../../../middleware/message/sqs-text.js";
import { decodeBody, decodeMessage } from "../../../../shared/wire/decoder.js";
import { ENVELOPE_ATTRIBUTES, envelopeBody } from "../../../../shared/wire/envelope.js";
import { serializeRecord } from "../../../../shared/wire/record-json.js";
import { messageBytes } from "../../../../shared/wire/sqs-limits.js";
import { MAX_STREAM_MARK_BYTES } from "../../../../shared/wire/stream.js";
import { testBatcher } from "../../../helpers/batcher-config.js";

type Entry = {
  Id: string;
  MessageBody: string;
  MessageAttributes: Record<string, { DataType: string; StringValue: string }>;
};
type Reply = {
  Successful?: { Id: string }[];
  Failed?: { Id: string; SenderFault: boolean; Code: string }[];
};

function stubSqs(reply: (entries: Entry[]) => Reply | Error) {
  const calls: Entry[][] = [];
  const client = {
    send: vi.fn(async (command: SendMessageBatchCommand) => {
      const entries = command.input.Entries as unknown as Entry[];
      calls.push(entries);
      const out = reply(entries);
      if (out instanceof Error) throw out;
      return out;
    }),
  };
  return { client: client as unknown as SQSClient, calls };
}

const allOk = (entries: Entry[]): Reply => ({ Successful: entries.map((e) => ({ Id: e.Id })) });

/**
 * A message's size as the batcher counts it: its records (numbered in the mark, not in
 * themselves) and room kept for the stream mark.
 */
const packedBytes = (records: readonly Record<string, unknown>[]) =>
  messageBytes(
    envelopeBody(records.map((r) => sqsSafeJson(serializeRecord(r)))),
    ENVELOPE_ATTRIBUTES,
  ) + MAX_STREAM_MARK_BYTES;

const record = (pad = 0) => ({ _id: new ObjectId(), ts: new Date(), pad: "x".repeat(pad) });

describe("Batcher", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("waits lingerMs, then sends everything buffered in one call", async () => {
    const { client, calls } = stubSqs(allOk);
    const { batcher } = testBatcher(client);
    for (let i = 0; i < 5; i++) batcher.add(record());
    await vi.advanceTimersByTimeAsync(199);
    expect(calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    await batcher.flush();
    expect(calls).toHaveLength(1);
    const records = calls[0]?.flatMap((e) => decodeBody(e.MessageBody));
    expect(records).toHaveLength(5);
  });

  it("never exceeds 10 entries nor the message and batch byte limits", async () => {
    const { client, calls } = stubSqs(allOk);
    const { batcher } = testBatcher(client, { maxMessageBytes: 1024, maxBatchBytes: 8192 });
    for (let i = 0; i < 200; i++) batcher.add(record(100 + (i % 50)));
    await batcher.flush();
    let total = 0;
    for (const entries of calls) {
      expect(entries.length).toBeLessThanOrEqual(10);
      let batchBytes = 0;
      for (const e of entries) {
        const size = messageBytes(e.MessageBody, e.MessageAttributes);
        expect(size).toBeLessThanOrEqual(1024);
        batchBytes += size;
        total += decodeBody(e.MessageBody).length;
      }
      expect(batchBytes).toBeLessThanOrEqual(8192);
    }
    expect(total).toBe(200);
  });

  it("fills a message to exactly the byte limit and starts a new one a byte over", async () => {
    const records = [record(10), record(10)];
    // Characters beyond U+FFFF go out escaped (see sqs-text.ts): 12 bytes each, not 4.
    const exact = packedBytes(records);
    for (const [limit, messages] of [
      [exact, 1],
      [exact - 1, 2],
    ] as const) {
      const { client, calls } = stubSqs(allOk);
      const { batcher } = testBatcher(client, { maxMessageBytes: limit, maxBatchBytes: 100_000 });
      for (const r of records) batcher.add(r);
      await batcher.flush();
      expect(calls).toHaveLength(1);
      expect(calls[0]).toHaveLength(messages);
      for (const e of calls[0] ?? []) {
        expect(messageBytes(e.MessageBody, e.MessageAttributes)).toBeLessThanOrEqual(limit);
      }
    }
  });

  it("counts multi-byte UTF-8 characters by their encoded size", async () => {
    const records = [
      { ...record(), text: "é".repeat(100) },
      { ...record(), text: "𝄞".repeat(100) },
    ];
    // Characters beyond U+FFFF go out escaped (see sqs-text.ts): 12 bytes each, not 4.
    const exact = packedBytes(records);
    const { client, calls } = stubSqs(allOk);
    const { batcher } = testBatcher(client, { maxMessageBytes: exact - 1, maxBatchBytes: 100_000 });
    for (const r of records) batcher.add(r);
    await batcher.flush();
    expect(calls[0]).toHaveLength(2);
  });

  it("drops a record larger than a message with reason too_large, without retrying", async () => {
    const { client, calls } = stubSqs(allOk);
    const { batcher, errors } = testBatcher(client, { maxMessageBytes: 1024 });
    expect(batcher.add(record(2000))).toBe(false);
    await batcher.flush();
    expect(calls).toHaveLength(0);
    expect(errors[0]?.code).toBe("ERR_AUDITQ_TOO_LARGE");
  });

  it("retries failed entries and whole-call errors with backoff until SQS takes them", async () => {
    let call = 0;
    const delivered: unknown[] = [];
    const { client } = stubSqs((entries) => {
      call++;
      if (call === 1) return new Error("connect ECONNREFUSED");
      if (call === 2)
        return {
          Failed: entries.map((e) => ({ Id: e.Id, SenderFault: false, Code: "InternalError" })),
        };
      delivered.push(...entries.flatMap((e) => decodeBody(e.MessageBody)));
      return allOk(entries);
    });
    const { batcher } = testBatcher(client, { maxMessageBytes: 600, maxBatchBytes: 600 });
    for (let i = 0; i < 3; i++) batcher.add(record(100));
    const flushed = batcher.flush();
    await vi.advanceTimersByTimeAsync(5_000);
    await flushed;
    expect(call).toBeGreaterThanOrEqual(3);
    expect(delivered).toHaveLength(3);
  });

  it("sends again only the entries SQS failed on its side", async () => {
    const bodies: string[][] = [];
    const { client } = stubSqs((entries) => {
      bodies.push(entries.map((e) => e.MessageBody));
      if (bodies.length > 1) return allOk(entries);
      return {
        Successful: entries.filter((e) => e.Id !== "1").map((e) => ({ Id: e.Id })),
        Failed: [{ Id: "1", SenderFault: false, Code: "InternalError" }],
      };
    });
    const one = packedBytes([record(300)]);
    const { batcher } = testBatcher(client, { maxMessageBytes: one, maxBatchBytes: 1 << 20 });
    for (let i = 0; i < 3; i++) batcher.add(record(300));
    const flushed = batcher.flush();
    await vi.advanceTimersByTimeAsync(1000);
    await flushed;
    expect(bodies.map((b) => b.length)).toEqual([3, 1]);
    expect(bodies[1]?.[0]).toBe(bodies[0]?.[1]);
  });

  it("sends smaller calls when SQS refuses one as too long, and drops a lone message it refuses", async () => {
    const sizes: number[] = [];
    const { client } = stubSqs((entries) => {
      sizes.push(entries.length);
      if (entries.length > 2)
        return Object.assign(new Error("too long"), { name: "BatchRequestTooLong" });
      return allOk(entries);
    });
    const one = packedBytes([record(300)]);
    const { batcher, errors } = testBatcher(client, {
      maxMessageBytes: one,
      maxBatchBytes: 1 << 20,
    });
    for (let i = 0; i < 4; i++) batcher.add(record(300));
    await batcher.flush();
    expect(sizes).toEqual([4, 2, 2]);
    expect(errors.map((e) => e.code)).toEqual(["ERR_AUDITQ_SQS"]);

    const lone = stubSqs(() =>
      Object.assign(new Error("too long"), { name: "BatchRequestTooLong" }),
    );
    const second = testBatcher(lone.client);
    second.batcher.add(record());
    await second.batcher.flush();
    expect(lone.calls).toHaveLength(1);
    expect(second.errors.map((e) => e.details.reason)).toEqual(["rejected"]);
  });

  it("re-packs a message SQS rejects, so only the record it refuses alone is quarantined", async () => {
    const { client, calls } = stubSqs((entries) => ({
      Successful: entries
        .filter((e) => !e.MessageBody.includes("poison"))
        .map((e) => ({ Id: e.Id })),
      Failed: entries
        .filter((e) => e.MessageBody.includes("poison"))
        .map((e) => ({ Id: e.Id, SenderFault: true, Code: "InvalidMessageContents" })),
    }));
    const metrics = createMiddlewareMetrics(new Registry());
    const { batcher, errors } = testBatcher(client, { compression: "identity", metrics });
    const records = Array.from({ length: 7 }, (_, i) => ({ ...record(), i }));
    const poison = { ...record(), text: "poison" };
    for (const r of [...records.slice(0, 3), poison, ...records.slice(3)]) batcher.add(r);
    await batcher.flush();
    const stored = calls
      .flat()
      .filter((e) => !e.MessageBody.includes("poison"))
      .flatMap((e) => decodeBody(e.MessageBody));
    expect(stored.map((r) => r.i as number).sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(errors.map((e) => e.details.reason)).toEqual(["rejected"]);
    expect(errors[0]?.details.records).toBe(1);
    expect(JSON.parse(errors[0]?.details.record as string)).toMatchObject({ text: "poison" });
    const dropped = await metrics.recordsDropped.get();
    expect(dropped.values.filter((v) => v.value > 0)).toEqual([
      expect.objectContaining({ labels: { reason: "rejected" }, value: 1 }),
    ]);
  });

  it("drops entries SQS rejects as the sender's fault", async () => {
    const { client } = stubSqs((entries) => ({
      Failed: entries.map((e) => ({ Id: e.Id, SenderFault: true, Code: "InvalidMessageContents" })),
    }));
    const { batcher, errors } = testBatcher(client);
    batcher.add(record());
    await batcher.flush();
    expect(errors.map((e) => e.details.reason)).toEqual(["rejected"]);
  });

  it("drops what does not fit in maxBufferBytes, counts each, reports once per interval", async () => {
    const { client } = stubSqs(() => new Error("down"));
    const metrics = createMiddlewareMetrics(new Registry());
    const { batcher, errors } = testBatcher(client, {
      maxBufferBytes: 2000,
      lingerMs: 60_000,
      metrics,
    });
    let accepted = 0;
    for (let i = 0; i < 50; i++) if (batcher.add(record(100))) accepted++;
    expect(accepted).toBeGreaterThan(0);
    expect(accepted).toBeLessThan(50);
    expect(batcher.memoryBytes()).toBeLessThanOrEqual(2000);
    const dropped = await metrics.recordsDropped.get();
    expect(dropped.values.filter((v) => v.value > 0)).toEqual([
      expect.objectContaining({ labels: { reason: "buffer_full" }, value: 50 - accepted }),
    ]);
    expect(errors).toHaveLength(1);
    vi.advanceTimersByTime(10_000);
    batcher.add(record(100));
    expect(errors).toHaveLength(2);
    expect(errors[1]?.message).toMatch(/^\d+ records dropped \(buffer_full\)/);
  });

  it("compresses with brotli when that pays, and the sidecar's decoder reads it back", async () => {
    const { client, calls } = stubSqs(allOk);
    const { batcher } = testBatcher(client, {
      compression: "br",
      maxMessageBytes: 262_144,
      maxBatchBytes: 262_144,
    });
    const records = Array.from({ length: 300 }, () => record(200));
    for (const r of records) batcher.add(r);
    await batcher.flush();
    expect(calls).toHaveLength(1);
    const entries = calls[0] as Entry[];
    const raw = messageBytes(envelopeBody(records.map(serializeRecord)), ENVELOPE_ATTRIBUTES);
    let sent = 0;
    const decoded = [];
    for (const entry of entries) {
      expect(entry.MessageAttributes["auditq-encoding"]?.StringValue).toBe("br");
      sent += messageBytes(entry.MessageBody, entry.MessageAttributes);
      decoded.push(
        ...(await decodeMessage({
          Body: entry.MessageBody,
          MessageAttributes: entry.MessageAttributes,
        })),
      );
    }
    expect(sent).toBeLessThan(raw / 4);
    expect(decoded.map((d) => String(d._id))).toEqual(records.map((r) => String(r._id)));
  });

  it("sends a tiny batch uncompressed", async () => {
    const { client, calls } = stubSqs(allOk);
    const { batcher } = testBatcher(client, { compression: "br" });
    batcher.add(record());
    await batcher.flush();
    expect(calls[0]?.[0]?.MessageAttributes["auditq-encoding"]).toBeUndefined();
  });

  it("splits compressed messages that come out over the limit, none over it", async () => {
    const { client, calls } = stubSqs(allOk);
    const { batcher } = testBatcher(client, {
      compression: "br",
      maxMessageBytes: 4096,
      maxBatchBytes: 16_384,
    });
    // Random text compresses badly: the packer's first estimate is too optimistic.
    const records = Array.from({ length: 100 }, () => ({
      ...record(),
      noise: randomBytes(150).toString("base64"),
    }));
    for (const r of records) batcher.add(r);
    await batcher.flush();
    const ids: string[] = [];
    for (const entries of calls) {
      expect(entries.length).toBeLessThanOrEqual(10);
      let total = 0;
      for (const e of entries) {
        const size = messageBytes(e.MessageBody, e.MessageAttributes);
        expect(size).toBeLessThanOrEqual(4096);
        total += size;
        const docs = await decodeMessage({
          Body: e.MessageBody,
          MessageAttributes: e.MessageAttributes,
        });
        ids.push(...docs.map((d) => String(d._id)));
      }
      expect(total).toBeLessThanOrEqual(16_384);
    }
    expect(ids.sort()).toEqual(records.map((r) => String(r._id)).sort());
  });

  it("drops a record too large even compressed with reason too_large, once", async () => {
    const { client, calls } = stubSqs(allOk);
    const { batcher, errors } = testBatcher(client, { compression: "br", maxMessageBytes: 1024 });
    batcher.add({ ...record(), noise: randomBytes(3000).toString("base64") });
    batcher.add(record());
    await batcher.flush();
    expect(errors.map((e) => e.code)).toEqual(["ERR_AUDITQ_TOO_LARGE"]);
    expect(calls.flat()).toHaveLength(1);
  });

  it("sends at exactly 10 entries per call and starts an 11th message in a new call", async () => {
    const { client, calls } = stubSqs(allOk);
    const one = packedBytes([record(300)]);
    const { batcher } = testBatcher(client, { maxMessageBytes: one, maxBatchBytes: 1 << 20 });
    for (let i = 0; i < 11; i++) batcher.add(record(300));
    await batcher.flush();
    expect(calls.map((c) => c.length)).toEqual([10, 1]);
  });

  it("backs off with growing delays while SQS fails, one probe at a time", async () => {
    const times: number[] = [];
    const { client } = stubSqs(() => {
      times.push(Date.now());
      return new Error("connect ECONNREFUSED");
    });
    const { batcher } = testBatcher(client, {
      retry: { baseMs: 100, maxMs: 800 },
      maxInflight: 4,
    });
    vi.spyOn(Math, "random").mockReturnValue(0.999);
    for (let i = 0; i < 5; i++) batcher.add(record());
    batcher.flush();
    await vi.advanceTimersByTimeAsync(200 + 100 + 200 + 400 + 800 + 800);
    vi.mocked(Math.random).mockRestore();
    const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
    // linger 200, then 99, 199, 399, 799, 799 (ceiling 800): full jitter at its top.
    expect(gaps).toEqual([99, 199, 399, 799, 799]);
  });
});

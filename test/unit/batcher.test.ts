// Packing and retry logic of the batcher, against a stub SQS client (pure logic only; delivery
// itself is proven by the integration tests on real SQS servers).
import type { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { ObjectId } from "bson";
import { Registry } from "prom-client";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Batcher } from "../../middleware/batcher.js";
import { createMiddlewareMetrics } from "../../middleware/metrics.js";
import {
  decodeBody,
  ENVELOPE_ATTRIBUTES,
  envelopeBody,
  messageBytes,
  serializeRecord,
} from "../../shared/envelope.js";
import type { AuditqError } from "../../shared/errors.js";
import { silentLogger } from "../helpers/logger.js";

type Entry = { Id: string; MessageBody: string; MessageAttributes: Record<string, never> };
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

function makeBatcher(
  sqs: SQSClient,
  overrides: Partial<ConstructorParameters<typeof Batcher>[0]> = {},
) {
  const errors: AuditqError[] = [];
  const batcher = new Batcher({
    sqs,
    queueUrl: "http://sqs.local/1/q",
    lingerMs: 200,
    maxMessageBytes: 4096,
    maxBatchBytes: 4096,
    maxBufferBytes: 1 << 20,
    maxInflight: 1,
    retry: { baseMs: 100, maxMs: 1000 },
    logger: silentLogger,
    metrics: createMiddlewareMetrics(new Registry()),
    onError: (err) => errors.push(err),
    ...overrides,
  });
  return { batcher, errors };
}

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
    const { batcher } = makeBatcher(client);
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
    const { batcher } = makeBatcher(client, { maxMessageBytes: 1024, maxBatchBytes: 8192 });
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
    const exact = messageBytes(envelopeBody(records.map(serializeRecord)), ENVELOPE_ATTRIBUTES);
    for (const [limit, messages] of [
      [exact, 1],
      [exact - 1, 2],
    ] as const) {
      const { client, calls } = stubSqs(allOk);
      const { batcher } = makeBatcher(client, { maxMessageBytes: limit, maxBatchBytes: 100_000 });
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
    const exact = messageBytes(envelopeBody(records.map(serializeRecord)), ENVELOPE_ATTRIBUTES);
    const { client, calls } = stubSqs(allOk);
    const { batcher } = makeBatcher(client, { maxMessageBytes: exact - 1, maxBatchBytes: 100_000 });
    for (const r of records) batcher.add(r);
    await batcher.flush();
    expect(calls[0]).toHaveLength(2);
  });

  it("drops a record larger than a message with reason too_large, without retrying", async () => {
    const { client, calls } = stubSqs(allOk);
    const { batcher, errors } = makeBatcher(client, { maxMessageBytes: 1024 });
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
    const { batcher } = makeBatcher(client, { maxMessageBytes: 600, maxBatchBytes: 600 });
    for (let i = 0; i < 3; i++) batcher.add(record(100));
    const flushed = batcher.flush();
    await vi.advanceTimersByTimeAsync(5_000);
    await flushed;
    expect(call).toBeGreaterThanOrEqual(3);
    expect(delivered).toHaveLength(3);
  });

  it("drops entries SQS rejects as the sender's fault", async () => {
    const { client } = stubSqs((entries) => ({
      Failed: entries.map((e) => ({ Id: e.Id, SenderFault: true, Code: "InvalidMessageContents" })),
    }));
    const { batcher, errors } = makeBatcher(client);
    batcher.add(record());
    await batcher.flush();
    expect(errors.map((e) => e.details.reason)).toEqual(["rejected"]);
  });

  it("drops what does not fit in maxBufferBytes, and counts it", async () => {
    const { client } = stubSqs(() => new Error("down"));
    const { batcher, errors } = makeBatcher(client, { maxBufferBytes: 2000, lingerMs: 60_000 });
    let accepted = 0;
    for (let i = 0; i < 50; i++) if (batcher.add(record(100))) accepted++;
    expect(accepted).toBeGreaterThan(0);
    expect(accepted).toBeLessThan(50);
    expect(errors.every((e) => e.details.reason === "buffer_full")).toBe(true);
    expect(errors).toHaveLength(50 - accepted);
  });
});

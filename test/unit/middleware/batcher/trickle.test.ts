// Records that trickle in (less than a call's worth per lingerMs) go out as one message per
// call, so the sidecar receives each call's records in one ReceiveMessage, not one per eighth.
import { performance } from "node:perf_hooks";
import type { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { ObjectId } from "bson";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { decodeMessage } from "../../../../shared/wire/decoder.js";
import { FULL_CALL, testBatcher } from "../../../helpers/batcher-config.js";

type Entry = {
  Id: string;
  MessageBody: string;
  MessageAttributes: Record<string, { DataType: string; StringValue: string }>;
};

describe("Batcher under a trickle", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("sends what one lingerMs gathered as one compressed message", async () => {
    const calls: Entry[][] = [];
    const sqs = {
      send: async (command: SendMessageBatchCommand) => {
        const entries = command.input.Entries as unknown as Entry[];
        calls.push(entries);
        return { Successful: entries.map((e) => ({ Id: e.Id })) };
      },
    } as unknown as SQSClient;
    const { batcher, errors } = testBatcher(sqs, {
      ...FULL_CALL,
      lingerMs: 2000,
      maxBufferBytes: 16 << 20,
      maxInflight: 4,
      compression: "br",
    });
    // 200 records/s of ~700 bytes for two linger periods: 400 records (280 KB raw) per call,
    // about three eighths of a call's worth of compressed messages before this change.
    const ids: string[] = [];
    for (let period = 0; period < 2; period++) {
      for (let i = 0; i < 400; i++) {
        const _id = new ObjectId();
        ids.push(String(_id));
        batcher.add({
          _id,
          ts: new Date(),
          n: i,
          pad: `${"x".repeat(300)}${Math.random()}`.repeat(2),
        });
        await vi.advanceTimersByTimeAsync(5);
      }
      // lingerMs passes; compression runs on the threadpool, so wait for the call itself, up to
      // 10 s of real time (fake time alone ran out before a loaded machine's brotli finished).
      const deadline = performance.now() + 10_000;
      while (calls.length === period && performance.now() < deadline) {
        await vi.advanceTimersByTimeAsync(10);
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    await batcher.flush();
    expect(calls.map((entries) => entries.length)).toEqual([1, 1]);
    const stored: string[] = [];
    for (const entries of calls) {
      for (const e of entries) {
        for (const r of await decodeMessage({
          Body: e.MessageBody,
          MessageAttributes: e.MessageAttributes,
        })) {
          stored.push(String(r._id));
        }
      }
    }
    expect(stored).toEqual(ids);
    expect(errors).toEqual([]);
  });
});

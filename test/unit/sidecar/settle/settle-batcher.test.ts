import type { Message } from "@aws-sdk/client-sqs";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Logger } from "../../../../shared/util/logger.js";
import { SettleBatcher, settleMaxWaitMs } from "../../../../sidecar/settle/settle-batcher.js";

interface Call {
  kind: "delete" | "visibility";
  ids: string[];
  seconds?: number;
}

function setup(fail = false) {
  const calls: Call[] = [];
  const counts = { deleted: 0, released: 0 };
  const errors: string[] = [];
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: (_, msg) => {
      errors.push(msg ?? "");
    },
  };
  const batcher = new SettleBatcher({
    calls: {
      async deleteMessages(messages) {
        calls.push({ kind: "delete", ids: messages.map((m) => m.MessageId as string) });
        if (fail) throw new Error("boom");
        return messages.length;
      },
      async changeVisibility(messages, seconds) {
        calls.push({
          kind: "visibility",
          ids: messages.map((m) => m.MessageId as string),
          seconds,
        });
        return messages.length;
      },
    },
    logger,
    maxWaitMs: 1_000,
    onDeleted: (n) => {
      counts.deleted += n;
    },
    onReleased: (n) => {
      counts.released += n;
    },
  });
  return { batcher, calls, counts, errors };
}

const message = (i: number): Message => ({ MessageId: `m${i}`, ReceiptHandle: `r${i}` });

describe("SettleBatcher", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("deletes messages settled one by one in calls of 10, the rest after the wait", async () => {
    const { batcher, calls, counts } = setup();
    for (let i = 0; i < 25; i++) batcher.delete(message(i));
    expect(calls.map((c) => c.ids.length)).toEqual([10, 10]);
    await vi.advanceTimersByTimeAsync(999);
    expect(calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    await batcher.sendPending();
    expect(calls.map((c) => c.ids.length)).toEqual([10, 10, 5]);
    expect(calls.flatMap((c) => c.ids)).toEqual(Array.from({ length: 25 }, (_, i) => `m${i}`));
    expect(counts.deleted).toBe(25);
    expect(batcher.waiting).toBe(0);
  });

  it("sends at once on sendPending, which waits for the calls in flight", async () => {
    const { batcher, calls, counts } = setup();
    batcher.delete(message(1));
    batcher.delete(message(2));
    await batcher.sendPending();
    expect(calls).toEqual([{ kind: "delete", ids: ["m1", "m2"] }]);
    expect(counts.deleted).toBe(2);
    // Nothing waits any more: the timer is gone, so no second call comes later.
    await vi.advanceTimersByTimeAsync(5_000);
    expect(calls).toHaveLength(1);
  });

  it("releases by delay, each delay in its own calls of up to 10", async () => {
    const { batcher, calls, counts } = setup();
    for (let i = 0; i < 12; i++) batcher.release(message(i), i % 2 === 0 ? 0 : 5);
    batcher.delete(message(99));
    await batcher.sendPending();
    expect(calls).toEqual([
      { kind: "delete", ids: ["m99"] },
      { kind: "visibility", ids: ["m0", "m2", "m4", "m6", "m8", "m10"], seconds: 0 },
      { kind: "visibility", ids: ["m1", "m3", "m5", "m7", "m9", "m11"], seconds: 5 },
    ]);
    expect(counts.released).toBe(12);
  });

  it("logs a call that throws instead of failing sendPending", async () => {
    const { batcher, errors } = setup(true);
    batcher.delete(message(1));
    await batcher.sendPending();
    expect(errors).toEqual(["settling failed"]);
  });

  it("waits an eighth of the visibility timeout, at most 10 s", () => {
    expect(settleMaxWaitMs(60)).toBe(7_500);
    expect(settleMaxWaitMs(4)).toBe(500);
    expect(settleMaxWaitMs(3600)).toBe(10_000);
  });
});

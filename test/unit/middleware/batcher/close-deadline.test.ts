// close() past its deadline without a spool: what could not be sent is dropped and close()
// returns, even with an SQS client that refuses an aborted call at once (a rejected promise,
// no I/O): sending again after the deadline would loop on microtasks and starve the timers.
import type { SQSClient } from "@aws-sdk/client-sqs";
import { ObjectId } from "bson";
import { describe, expect, it } from "vitest";
import { testBatcher } from "../../../helpers/batcher-config.js";

/** Hangs each call until it is aborted; refuses an already-aborted call without yielding. */
function hangingSqs() {
  let calls = 0;
  const sqs = {
    send: (_command: unknown, options?: { abortSignal?: AbortSignal }) => {
      calls++;
      const signal = options?.abortSignal;
      const aborted = () => Object.assign(new Error("Request aborted"), { name: "AbortError" });
      if (signal?.aborted) return Promise.reject(aborted());
      return new Promise((_resolve, reject) => {
        signal?.addEventListener("abort", () => reject(aborted()), { once: true });
      });
    },
  };
  return { sqs: sqs as unknown as SQSClient, calls: () => calls };
}

describe("close() past its deadline, no spool", () => {
  it("drops what is still in memory and returns, without sending again", async () => {
    const { sqs, calls } = hangingSqs();
    const { batcher } = testBatcher(sqs, { lingerMs: 10 });
    for (let i = 0; i < 3; i++) batcher.add({ _id: new ObjectId(), ts: new Date(), pad: "x" });
    const report = await batcher.close(300);
    expect(report).toEqual({ sent: 0, spooled: 0, dropped: 3 });
    // The call the deadline aborted, and none after it.
    expect(calls()).toBe(1);
  }, 5_000);
});

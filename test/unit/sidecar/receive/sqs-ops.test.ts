import type { Message, SQSClient } from "@aws-sdk/client-sqs";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createSidecarMetrics } from "../../../../sidecar/config/metrics.js";
import { SqsOps } from "../../../../sidecar/receive/sqs-ops.js";
import { silentLogger } from "../../../helpers/logger.js";

interface Call {
  name: string;
  entries: { Id: string; ReceiptHandle?: string; VisibilityTimeout?: number }[];
}

function fakeSqs(answer: (call: Call, n: number) => { Failed?: { Id: string; Code: string }[] }) {
  const calls: Call[] = [];
  const client = {
    async send(command: { constructor: { name: string }; input: { Entries: Call["entries"] } }) {
      const call = { name: command.constructor.name, entries: command.input.Entries };
      calls.push(call);
      return answer(call, calls.length);
    },
  } as unknown as SQSClient;
  const ops = new SqsOps(
    client,
    "https://sqs.example/1/q",
    createSidecarMetrics(new Registry(), async () => undefined),
    silentLogger,
  );
  return { ops, calls };
}

const messages = (n: number): Message[] =>
  Array.from({ length: n }, (_, i) => ({ MessageId: `m${i}`, ReceiptHandle: `r${i}` }));

describe("SqsOps batches", () => {
  it("deletes in calls of at most 10 entries", async () => {
    const { ops, calls } = fakeSqs(() => ({}));
    expect(await ops.deleteMessages(messages(23))).toBe(23);
    expect(calls.map((c) => c.entries.length)).toEqual([10, 10, 3]);
    expect(calls.every((c) => c.name === "DeleteMessageBatchCommand")).toBe(true);
  });

  it("retries Failed entries, and only those", async () => {
    const { ops, calls } = fakeSqs((_call, n) =>
      n === 1 ? { Failed: [{ Id: "2", Code: "InternalError" }] } : {},
    );
    expect(await ops.deleteMessages(messages(5))).toBe(5);
    expect(calls).toHaveLength(2);
    expect(calls[1]?.entries.map((e) => e.ReceiptHandle)).toEqual(["r2"]);
  });

  it("tolerates ReceiptHandleIsInvalid without retrying it", async () => {
    const { ops, calls } = fakeSqs(() => ({
      Failed: [{ Id: "0", Code: "ReceiptHandleIsInvalid" }],
    }));
    expect(await ops.deleteMessages(messages(3))).toBe(2);
    expect(calls).toHaveLength(1);
  });

  it("releases by setting the visibility timeout of each entry", async () => {
    const { ops, calls } = fakeSqs(() => ({}));
    expect(await ops.changeVisibility(messages(2), 0)).toBe(2);
    expect(calls[0]?.name).toBe("ChangeMessageVisibilityBatchCommand");
    expect(calls[0]?.entries.map((e) => e.VisibilityTimeout)).toEqual([0, 0]);
  });
});

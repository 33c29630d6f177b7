// sendBatch gives each entry, on each attempt, its own MessageAttributes object.
import type { SQSClient } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { sendBatch } from "../../../../middleware/batcher/sqs-call.js";
import type { EncodedMessage } from "../../../../middleware/message/packer.js";
import { envelopeAttributes } from "../../../../shared/wire/envelope.js";

type Entry = { Id: string; MessageAttributes: Record<string, unknown> };

describe("sendBatch", () => {
  it("sends a fresh attributes object per entry, so in-place writes stay on one message", async () => {
    const attributes = envelopeAttributes("br");
    const envelope: EncodedMessage = {
      body: "x",
      encoding: "br",
      attributes,
      records: 1,
      bytes: 10,
    };
    const calls: Entry[][] = [];
    // What OpenTelemetry's aws-sdk instrumentation does: write trace context into each entry.
    const sqs = {
      send: async (command: { input: { Entries: Entry[] } }) => {
        calls.push(command.input.Entries);
        for (const entry of command.input.Entries) {
          entry.MessageAttributes.traceparent = { DataType: "String", StringValue: entry.Id };
        }
        return { Successful: command.input.Entries.map((e) => ({ Id: e.Id })), Failed: [] };
      },
    } as unknown as SQSClient;
    await sendBatch(sqs, "http://q", [envelope, envelope]);
    await sendBatch(sqs, "http://q", [envelope]);
    const [first, second] = calls as [Entry[], Entry[]];
    expect(first[0]?.MessageAttributes).not.toBe(first[1]?.MessageAttributes);
    expect(first[1]?.MessageAttributes.traceparent).toEqual({
      DataType: "String",
      StringValue: "1",
    });
    expect(second[0]?.MessageAttributes).toEqual({
      ...attributes,
      traceparent: { DataType: "String", StringValue: "0" },
    });
    // The envelope's own attributes, shared by every message of that encoding, are untouched.
    expect(attributes).not.toHaveProperty("traceparent");
    expect(envelopeAttributes("br")).toEqual(attributes);
  });
});

import { ObjectId } from "bson";
import { describe, expect, it } from "vitest";
import { DecodeError } from "../../../../shared/util/errors.js";
import { decodeBody, decodeMessage } from "../../../../shared/wire/decoder.js";
import { ENVELOPE_ATTRIBUTES, envelopeBody } from "../../../../shared/wire/envelope.js";
import { serializeRecord } from "../../../../shared/wire/record-json.js";
import { messageBytes } from "../../../../shared/wire/sqs-limits.js";

describe("envelope", () => {
  it("round-trips ObjectId, Date and nested values through a packed body", () => {
    const records = [
      {
        _id: new ObjectId(),
        ts: new Date("2026-01-02T03:04:05.678Z"),
        actor: { id: "u1" },
        n: 1.5,
      },
      { _id: new ObjectId(), ts: new Date(0), actor: { id: null }, text: "héllo ✓ 𝄞" },
    ];
    const decoded = decodeBody(envelopeBody(records.map(serializeRecord)));
    expect(decoded).toHaveLength(2);
    expect(decoded[0]?._id).toBeInstanceOf(ObjectId);
    expect(String(decoded[0]?._id)).toBe(String(records[0]?._id));
    expect(decoded[0]?.ts).toEqual(records[0]?.ts);
    expect(decoded[1]).toEqual(records[1]);
  });

  it("accepts a plain single-record JSON body", () => {
    expect(decodeBody('{"action":"x"}')).toEqual([{ action: "x" }]);
  });

  it.each([
    ["not json", "nope"],
    ["an array", "[1,2]"],
    ["a string", '"x"'],
    ["a future envelope version", '{"auditq":99,"records":[]}'],
    ["an envelope without records", '{"auditq":1}'],
    ["an envelope with a non-object record", '{"auditq":1,"records":[1]}'],
  ])("rejects %s with a DecodeError", (_, body) => {
    expect(() => decodeBody(body)).toThrow(DecodeError);
  });

  it("counts message size as SQS does: UTF-8 body plus attribute name, type and value", () => {
    expect(messageBytes("ab")).toBe(2);
    expect(messageBytes("é")).toBe(2);
    const attrs = ENVELOPE_ATTRIBUTES;
    expect(messageBytes("", attrs)).toBe("auditq-format".length + "String".length + 1);
  });
});

describe("decodeMessage", () => {
  it("decodes a message without an encoding attribute as plain JSON", async () => {
    await expect(decodeMessage({ Body: '{"auditq":1,"records":[{"a":1}]}' })).resolves.toEqual([
      { a: 1 },
    ]);
  });
  it("rejects an encoding it does not know", async () => {
    await expect(
      decodeMessage({
        Body: "x",
        MessageAttributes: { "auditq-encoding": { DataType: "String", StringValue: "lz4" } },
      }),
    ).rejects.toThrow(DecodeError);
  });
});

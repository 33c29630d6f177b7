// The envelope's `stream` key: encoded after the records, decoded beside them, ignored by the
// records-only (version 1) path, counted by the bounds and covered by the signature.
import { ObjectId } from "bson";
import { describe, expect, it } from "vitest";
import { unpackItems } from "../../../../middleware/message/unpack.js";
import { decodeBody, decodeEnvelope, measureMessage } from "../../../../shared/wire/decoder.js";
import { ENVELOPE_ATTRIBUTES, envelopeBody } from "../../../../shared/wire/envelope.js";
import { serializeRecord } from "../../../../shared/wire/record-json.js";
import { signatureProblem, signMessage } from "../../../../shared/wire/signature.js";
import { parseStreamMark, type StreamMark } from "../../../../shared/wire/stream.js";

const id = "AbCdEfGhIjKlMnOpQrStUv";
const mark: StreamMark = { id, hwm: 7, lost: [{ from: 3, to: 4, reason: "buffer-full" }] };
const records = [
  { _id: new ObjectId(), ts: new Date(0), seq: { stream: id, n: 5 } },
  {
    _id: new ObjectId(),
    ts: new Date(1),
    meta: { a: [1], stream: { id: "x" } },
    seq: { stream: id, n: 6 },
  },
];

describe("stream mark", () => {
  it("decodes beside the records, and the records-only path ignores it", () => {
    const body = envelopeBody(records.map(serializeRecord), mark);
    expect(
      body.endsWith(
        `"records":[${records.map(serializeRecord).join(",")}],"stream":{"id":"${id}","hwm":7,"lost":[{"from":3,"to":4,"reason":"buffer-full"}]}}`,
      ),
    ).toBe(true);
    const decoded = decodeEnvelope(body);
    expect(decoded.stream).toEqual(mark);
    expect(decoded.records).toHaveLength(2);
    expect(decodeBody(body)).toEqual(decoded.records);
  });

  it("decodes old messages without the key as before, with no mark", () => {
    const body = envelopeBody(records.map(serializeRecord));
    expect(decodeEnvelope(body).stream).toBeUndefined();
    expect(decodeBody(body)).toHaveLength(2);
  });

  it("ignores a malformed mark and keeps the records", () => {
    for (const bad of [
      { id: "short", hwm: 1 },
      { id, hwm: -1 },
      { id, hwm: 2, lost: [{ from: 2, to: 1, reason: "buffer-full" }] },
      { id, hwm: 2, lost: [{ from: 1, to: 1, reason: "other" }] },
    ]) {
      expect(parseStreamMark(bad)).toBeUndefined();
      const body = `{"auditq":1,"n":1,"records":[{"a":1}],"stream":${JSON.stringify(bad)}}`;
      expect(decodeEnvelope(body)).toEqual({ records: [{ a: 1 }], stream: undefined });
    }
  });

  it("is counted by the bounds like any key", async () => {
    const body = envelopeBody(records.map(serializeRecord), mark);
    const plain = envelopeBody(records.map(serializeRecord));
    const [a, b] = await Promise.all([
      measureMessage({ Body: body }),
      measureMessage({ Body: plain }),
    ]);
    expect(a.shape.records).toBe(2);
    expect(a.shape.values).toBeGreaterThan(b.shape.values);
  });

  it("is covered by the signature", () => {
    const secret = "s".repeat(32);
    const body = envelopeBody(records.map(serializeRecord), mark);
    const attributes = {
      ...ENVELOPE_ATTRIBUTES,
      "auditq-signature": {
        DataType: "String",
        StringValue: signMessage(body, ENVELOPE_ATTRIBUTES, secret),
      },
    };
    expect(signatureProblem(body, attributes, [secret])).toBeUndefined();
    const forged = body.replace('"hwm":7', '"hwm":9');
    expect(signatureProblem(forged, attributes, [secret])).toBeDefined();
  });

  it("unpacks the records of a marked message with their numbers, and a control message to none", async () => {
    const body = envelopeBody(records.map(serializeRecord), mark);
    const items = await unpackItems(
      { body, encoding: "identity", attributes: ENVELOPE_ATTRIBUTES, records: 2, bytes: 0 },
      id,
    );
    expect(items.map((i) => i.json)).toEqual(records.map(serializeRecord));
    expect(items.map((i) => i.n)).toEqual([5, 6]);
    const control = envelopeBody([], { id, hwm: 7, end: true });
    expect(
      await unpackItems({
        body: control,
        encoding: "identity",
        attributes: ENVELOPE_ATTRIBUTES,
        records: 0,
        bytes: 0,
      }),
    ).toEqual([]);
  });
});

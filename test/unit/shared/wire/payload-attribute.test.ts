// The binary payload layout, piece by piece: packing and its size accounting, re-packing, the
// spool's frames, signatures over the payload bytes, decoding, and the bench proxy's count.
import { createHmac } from "node:crypto";
import { gzipSync } from "node:zlib";
import { ObjectId } from "bson";
import { describe, expect, it } from "vitest";
import { wirePayloadBytes } from "../../../../bench/anchors/wire-payload.js";
import { type EncodedMessage, type Item, Packer } from "../../../../middleware/message/packer.js";
import { unpackItems } from "../../../../middleware/message/unpack.js";
import { frame, unframe, validFrameAt } from "../../../../middleware/spool/frames.js";
import { DecodeError } from "../../../../shared/util/errors.js";
import { MAX_DECODED_BODY_BYTES } from "../../../../shared/wire/body-codec.js";
import { decodeMessage } from "../../../../shared/wire/decoder.js";
import { ENVELOPE_ATTRIBUTES, envelopeBody } from "../../../../shared/wire/envelope.js";
import { ATTR_PAYLOAD, payloadBody } from "../../../../shared/wire/payload-attribute.js";
import { serializeRecord } from "../../../../shared/wire/record-json.js";
import { signatureProblem, signMessage } from "../../../../shared/wire/signature.js";
import { messageBytes } from "../../../../shared/wire/sqs-limits.js";

const records = Array.from({ length: 200 }, (_, i) => ({
  _id: new ObjectId(),
  ts: new Date(1_700_000_000_000 + i),
  action: `GET /orders/${i}`,
  text: `héllo ✓ 𝄞 ${i}`,
}));
const items: Item[] = records.map((r) => {
  const json = serializeRecord(r);
  return { json, bytes: Buffer.byteLength(json) };
});

function packer(binaryPayload: boolean, compression: "br" | "gzip" = "br"): Packer {
  return new Packer({
    maxMessageBytes: 262_144,
    maxBatchBytes: 262_144,
    compression,
    maxRecordsPerMessage: 10_000,
    binaryPayload,
  });
}

/** The attributes SQS receives for a message: its string ones and the payload attribute. */
function sent(env: EncodedMessage) {
  return env.payload === undefined
    ? { ...env.attributes }
    : {
        ...env.attributes,
        [ATTR_PAYLOAD]: { DataType: `Binary.${env.encoding}`, BinaryValue: env.payload },
      };
}

async function packOne(binaryPayload: boolean, compression: "br" | "gzip" = "br") {
  const { envelopes } = await packer(binaryPayload, compression).encode(items);
  expect(envelopes).toHaveLength(1);
  return envelopes[0] as EncodedMessage;
}

describe("packing with binaryPayload", () => {
  it.each(["br", "gzip"] as const)(
    "carries the %s bytes raw, a quarter smaller than base64",
    async (compression) => {
      const base64 = await packOne(false, compression);
      const binary = await packOne(true, compression);
      expect(binary.body).toBe(payloadBody(records.length));
      expect(binary.payload?.toString("base64")).toBe(base64.body);
      // Counted as SQS counts it: body, string attributes, and the payload attribute's bytes.
      expect(binary.bytes).toBe(messageBytes(binary.body, sent(binary)));
      expect(binary.bytes / base64.bytes).toBeLessThan(0.8);
      const decoded = await decodeMessage({ Body: binary.body, MessageAttributes: sent(binary) });
      expect(decoded).toEqual(records);
    },
  );

  it("re-packs the records of a binary-payload message one by one", async () => {
    const binary = await packOne(true);
    const unpacked = await unpackItems(binary);
    expect(unpacked).toHaveLength(items.length);
    expect(unpacked).toEqual(await unpackItems(await packOne(false)));
  });
});

describe("spool frames of binary-payload messages", () => {
  it("keep the payload bytes and the size SQS counts", async () => {
    const binary = await packOne(true);
    const buf = frame(binary);
    expect(validFrameAt(buf, 0)?.bytes).toBe(binary.bytes);
    const back = unframe(buf);
    expect(back).toEqual(binary);
    expect(back.payload?.equals(binary.payload as Buffer)).toBe(true);
  });

  it("are unchanged for base64 messages", async () => {
    const base64 = await packOne(false);
    const buf = frame(base64);
    expect(buf.readUInt8(12)).toBe(1);
    expect(unframe(buf)).toEqual(base64);
  });
});

describe("signatures", () => {
  const key = "a-signing-secret-of-some-length";

  it("are what they were for a message without a payload attribute", () => {
    const body = envelopeBody(items.slice(0, 3).map((i) => i.json));
    const text = `auditq-signature-v1\n1\nidentity\n${body}`;
    const before = `v1=${createHmac("sha256", key).update(text).digest("base64")}`;
    expect(signMessage(body, ENVELOPE_ATTRIBUTES, key)).toBe(before);
  });

  it("cover the payload's bytes and data type", async () => {
    const binary = await packOne(true);
    const attributes = sent(binary);
    const signature = {
      DataType: "String",
      StringValue: signMessage(binary.body, attributes, key),
    };
    const check = (attrs: typeof attributes) =>
      signatureProblem(binary.body, { ...attrs, "auditq-signature": signature }, [key]);
    expect(check(attributes)).toBeUndefined();
    const flipped = Buffer.from(binary.payload as Buffer);
    flipped[10] = (flipped[10] as number) ^ 1;
    expect(
      check({ ...attributes, [ATTR_PAYLOAD]: { DataType: "Binary.br", BinaryValue: flipped } }),
    ).toMatch(/does not match/);
    expect(
      check({
        ...attributes,
        [ATTR_PAYLOAD]: { DataType: "Binary.gzip", BinaryValue: binary.payload as Buffer },
      }),
    ).toMatch(/does not match/);
    // Without the payload attribute the same body and signature do not pass either.
    expect(check({ ...binary.attributes })).toMatch(/does not match/);
  });
});

describe("decoding a payload attribute", () => {
  const text = envelopeBody(items.slice(0, 5).map((i) => i.json));

  it("refuses a data type that names no compression", async () => {
    const attrs = {
      ...ENVELOPE_ATTRIBUTES,
      [ATTR_PAYLOAD]: { DataType: "Binary", BinaryValue: gzipSync(text) },
    };
    await expect(decodeMessage({ Body: payloadBody(5), MessageAttributes: attrs })).rejects.toThrow(
      /auditq-payload is not a Binary.br, Binary.gzip or Binary.zstd attribute/,
    );
  });

  it("refuses bytes that do not decompress, naming the attribute", async () => {
    const attrs = {
      ...ENVELOPE_ATTRIBUTES,
      [ATTR_PAYLOAD]: { DataType: "Binary.gzip", BinaryValue: Buffer.from("not gzip") },
    };
    const decoding = decodeMessage({ Body: payloadBody(5), MessageAttributes: attrs });
    await expect(decoding).rejects.toThrow(DecodeError);
    await expect(decoding).rejects.toThrow(/auditq-payload attribute does not decompress as gzip/);
  });

  it("refuses a payload that decompresses beyond the decode bound (a bomb)", async () => {
    const bomb = gzipSync(Buffer.alloc(MAX_DECODED_BODY_BYTES + 1, 0x20), { level: 1 });
    const attrs = {
      ...ENVELOPE_ATTRIBUTES,
      [ATTR_PAYLOAD]: { DataType: "Binary.gzip", BinaryValue: bomb },
    };
    await expect(decodeMessage({ Body: payloadBody(1), MessageAttributes: attrs })).rejects.toThrow(
      /auditq-payload attribute decompresses to more than/,
    );
  });

  it("reads the records from the payload, whatever the body says", async () => {
    const attrs = {
      ...ENVELOPE_ATTRIBUTES,
      [ATTR_PAYLOAD]: { DataType: "Binary.gzip", BinaryValue: gzipSync(text) },
    };
    const decoded = await decodeMessage({ Body: payloadBody(5), MessageAttributes: attrs });
    expect(decoded).toHaveLength(5);
  });
});

describe("the anchors bench's proxy", () => {
  it("counts a Binary attribute by its bytes, not by the base64 the JSON protocol carries", () => {
    const bytes = Buffer.alloc(3000, 7);
    const wire = {
      MessageBody: "{}",
      MessageAttributes: {
        [ATTR_PAYLOAD]: { DataType: "Binary.br", BinaryValue: bytes.toString("base64") },
      },
    };
    expect(wirePayloadBytes([wire])).toBe(
      2 + ATTR_PAYLOAD.length + "Binary.br".length + bytes.length,
    );
  });
});

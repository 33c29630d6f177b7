// Body encodings end to end: what the packer sends in each compression and layout decodes to the
// same records; every layout earlier versions sent still decodes; zstd is named on the wire,
// kept in spool frames and re-packed; and a zstd bomb is refused like a brotli or gzip one.
import { brotliCompressSync, constants, gzipSync, zstdCompressSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { realisticRecord } from "../../../../bench/realistic-record.js";
import { type EncodedMessage, type Item, Packer } from "../../../../middleware/message/packer.js";
import { unpackItems } from "../../../../middleware/message/unpack.js";
import { frame, unframe } from "../../../../middleware/spool/frames.js";
import { DecodeError } from "../../../../shared/util/errors.js";
import { MAX_DECODED_BODY_BYTES } from "../../../../shared/wire/body-codec.js";
import { decodeMessage } from "../../../../shared/wire/decoder.js";
import {
  type BodyEncoding,
  ENVELOPE_ATTRIBUTES,
  envelopeAttributes,
  envelopeBody,
} from "../../../../shared/wire/envelope.js";
import { ATTR_PAYLOAD, payloadBody } from "../../../../shared/wire/payload-attribute.js";
import { serializeRecord } from "../../../../shared/wire/record-json.js";
import type { MessageAttributeLike } from "../../../../shared/wire/sqs-limits.js";
import { recordLike } from "../../../helpers/bson-values.js";

const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
const COMPRESSIONS = ["br", "gzip", "zstd"] as const;

const itemOf = (record: object): Item => {
  const json = serializeRecord(record as never);
  return { json, bytes: Buffer.byteLength(json) };
};
/** The item of a record, or undefined when serializeRecord refuses it (as capture would). */
const serializable = (record: object): Item | undefined => {
  try {
    return itemOf(record);
  } catch {
    // EJSON refuses some generated values (a `_bsontype` key); capture never packs those.
    return undefined;
  }
};
const realistic = Array.from({ length: 300 }, (_, i) => itemOf(realisticRecord(i)));

function packer(compression: BodyEncoding, binaryPayload: boolean): Packer {
  return new Packer({
    maxMessageBytes: 262_144,
    maxBatchBytes: 262_144,
    compression,
    maxRecordsPerMessage: 10_000,
    binaryPayload,
  });
}

/** The attributes SQS hands the sidecar for a message: its string ones and the payload one. */
function received(env: EncodedMessage) {
  const attributes: Record<string, MessageAttributeLike> =
    env.payload === undefined
      ? { ...env.attributes }
      : {
          ...env.attributes,
          [ATTR_PAYLOAD]: { DataType: `Binary.${env.encoding}`, BinaryValue: env.payload },
        };
  return { Body: env.body, MessageAttributes: attributes };
}

/** The records the sidecar reads from `envelopes`, or the reason it refuses one. */
async function decodeAll(envelopes: EncodedMessage[]) {
  const docs = [];
  try {
    for (const env of envelopes) docs.push(...(await decodeMessage(received(env))));
  } catch (err) {
    // Some generated records are not Extended JSON a parser takes back (a `$numberLong` key of
    // a Date): refused alike whatever the compression, which is what is compared.
    return { refused: String(err) };
  }
  return docs;
}

describe("every compression and layout round-trips", () => {
  it("decodes what the packer sends as a plain message's records (or refuses it alike)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(recordLike, { minLength: 1, maxLength: 40 }),
        fc.constantFrom(...COMPRESSIONS),
        fc.boolean(),
        async (records, compression, binaryPayload) => {
          const items = records.map(serializable).filter((i) => i !== undefined);
          fc.pre(items.length > 0);
          const plain = await decodeAll((await packer("identity", false).encode(items)).envelopes);
          const { envelopes, tooLarge } = await packer(compression, binaryPayload).encode(items);
          expect(tooLarge).toEqual([]);
          expect(await decodeAll(envelopes)).toEqual(plain);
        },
      ),
      { numRuns: 150 },
    );
  });

  it.each([false, true])("names zstd on the wire (binaryPayload %s)", async (binaryPayload) => {
    const { envelopes } = await packer("zstd", binaryPayload).encode(realistic);
    expect(envelopes).toHaveLength(1);
    const env = envelopes[0] as EncodedMessage;
    expect(env.encoding).toBe("zstd");
    const msg = received(env);
    if (binaryPayload) {
      expect(msg.MessageAttributes[ATTR_PAYLOAD]?.DataType).toBe("Binary.zstd");
      expect(env.payload?.subarray(0, 4)).toEqual(ZSTD_MAGIC);
    } else {
      expect(msg.MessageAttributes["auditq-encoding"]?.StringValue).toBe("zstd");
      expect(Buffer.from(env.body, "base64").subarray(0, 4)).toEqual(ZSTD_MAGIC);
    }
    expect(await decodeMessage(msg)).toHaveLength(realistic.length);
  });
});

describe("layouts earlier versions sent", () => {
  const records = realistic.slice(0, 20);
  const text = envelopeBody(records.map((r) => r.json));
  const expected = records.map((r) => JSON.parse(r.json).action);
  const br = brotliCompressSync(text, { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } });
  const messages = {
    "plain, no encoding attribute": { Body: text, MessageAttributes: { ...ENVELOPE_ATTRIBUTES } },
    "plain, identity": { Body: text, MessageAttributes: envelopeAttributes("identity") },
    "br, base64": { Body: br.toString("base64"), MessageAttributes: envelopeAttributes("br") },
    "gzip, base64": {
      Body: gzipSync(text).toString("base64"),
      MessageAttributes: envelopeAttributes("gzip"),
    },
    "br, binary payload": {
      Body: payloadBody(records.length),
      MessageAttributes: {
        ...ENVELOPE_ATTRIBUTES,
        [ATTR_PAYLOAD]: { DataType: "Binary.br", BinaryValue: br },
      },
    },
    "gzip, binary payload": {
      Body: payloadBody(records.length),
      MessageAttributes: {
        ...ENVELOPE_ATTRIBUTES,
        [ATTR_PAYLOAD]: { DataType: "Binary.gzip", BinaryValue: gzipSync(text) },
      },
    },
  };

  it.each(Object.entries(messages))("decodes %s", async (_, message) => {
    const docs = await decodeMessage(message);
    expect(docs.map((d) => d.action)).toEqual(expected);
  });
});

describe("zstd in the spool and in re-packing", () => {
  it.each([
    [false, 5],
    [true, 6],
  ])(
    "keeps a zstd message in a spool frame (binaryPayload %s, layout %i)",
    async (binary, layout) => {
      const env = (await packer("zstd", binary).encode(realistic)).envelopes[0] as EncodedMessage;
      const buf = frame(env);
      expect(buf.readUInt8(12)).toBe(layout);
      expect(unframe(buf)).toEqual(env);
    },
  );

  it("keeps the layout numbers earlier versions wrote", async () => {
    const layoutOf = async (compression: BodyEncoding, binary: boolean) => {
      const env = (await packer(compression, binary).encode(realistic)).envelopes[0];
      return frame(env as EncodedMessage).readUInt8(12);
    };
    expect(await layoutOf("br", false)).toBe(1);
    expect(await layoutOf("gzip", false)).toBe(2);
    expect(await layoutOf("br", true)).toBe(3);
    expect(await layoutOf("gzip", true)).toBe(4);
  });

  it.each([false, true])(
    "unpacks a zstd message record by record (binaryPayload %s)",
    async (b) => {
      const env = (await packer("zstd", b).encode(realistic)).envelopes[0] as EncodedMessage;
      expect(await unpackItems(env)).toEqual(realistic);
    },
  );
});

describe("zstd decoding bounds", () => {
  const huge = Buffer.alloc(MAX_DECODED_BODY_BYTES + 1, 0x20);
  // With and without the decompressed size in the frame header: a hostile producer may omit it.
  const bombs = {
    "sized frame": zstdCompressSync(huge),
    "unsized frame": zstdCompressSync(huge, { params: { [constants.ZSTD_c_contentSizeFlag]: 0 } }),
  };

  it.each(Object.entries(bombs))("refuses a base64 body bomb (%s)", async (_, bomb) => {
    expect(bomb.length).toBeLessThan(64 * 1024);
    const decoding = decodeMessage({
      Body: bomb.toString("base64"),
      MessageAttributes: envelopeAttributes("zstd"),
    });
    await expect(decoding).rejects.toThrow(DecodeError);
    await expect(decoding).rejects.toThrow(/message body decompresses to more than 33554432 bytes/);
  });

  it.each(Object.entries(bombs))("refuses a payload attribute bomb (%s)", async (_, bomb) => {
    const attrs = {
      ...ENVELOPE_ATTRIBUTES,
      [ATTR_PAYLOAD]: { DataType: "Binary.zstd", BinaryValue: bomb },
    };
    await expect(decodeMessage({ Body: payloadBody(1), MessageAttributes: attrs })).rejects.toThrow(
      /auditq-payload attribute decompresses to more than 33554432 bytes/,
    );
  });

  it("refuses bytes that are not zstd, naming the codec", async () => {
    const decoding = decodeMessage({
      Body: gzipSync("{}").toString("base64"),
      MessageAttributes: envelopeAttributes("zstd"),
    });
    await expect(decoding).rejects.toThrow(/message body does not decompress as zstd/);
  });

  it("refuses an encoding it does not know", async () => {
    const attrs = {
      ...ENVELOPE_ATTRIBUTES,
      "auditq-encoding": { DataType: "String", StringValue: "lz4" },
    };
    await expect(decodeMessage({ Body: "x", MessageAttributes: attrs })).rejects.toThrow(
      /unsupported auditq-encoding "lz4"/,
    );
  });
});

// Escaping for SQS keeps the JSON value exactly, and leaves no character SQS may refuse;
// unpacking a message gives back the records that were packed, compressed or not.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type EncodedMessage, Packer } from "../../../../middleware/message/packer.js";
import { sqsSafeJson } from "../../../../middleware/message/sqs-text.js";
import { unpackItems } from "../../../../middleware/message/unpack.js";

// What SQS accepts, less the characters beyond U+FFFF that auditq escapes anyway.
const ACCEPTED = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD]*$/;

describe("sqsSafeJson", () => {
  it("keeps the value and leaves only characters SQS accepts", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), fc.string({ unit: "binary-ascii" }), (a, b) => {
        const json = JSON.stringify({ [a]: [a, b, `${a}\uFFFE\uFFFF`] });
        const safe = sqsSafeJson(json);
        expect(safe).toMatch(ACCEPTED);
        expect(JSON.parse(safe)).toEqual(JSON.parse(json));
      }),
    );
  });

  it("returns text without such characters as it is", () => {
    const json = JSON.stringify({ a: "plain é €" });
    expect(sqsSafeJson(json)).toBe(json);
  });
});

describe("unpackItems", () => {
  it.each(["identity", "br", "gzip"] as const)(
    "gives back each packed record (compression %s)",
    async (compression) => {
      const packer = new Packer({
        maxMessageBytes: 1 << 20,
        maxBatchBytes: 1 << 20,
        compression,
        maxRecordsPerMessage: 10_000,
      });
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.jsonValue({ maxDepth: 3 }), { minLength: 1, maxLength: 30 }),
          async (values) => {
            const items = values.map((v) => {
              const json = sqsSafeJson(JSON.stringify({ v, s: 'a,]}"\\' }));
              return { json, bytes: Buffer.byteLength(json) };
            });
            const { envelopes } = await packer.encode(items);
            expect(envelopes).toHaveLength(1);
            const back = await unpackItems(envelopes[0] as EncodedMessage);
            expect(back).toEqual(items);
          },
        ),
        { numRuns: 30 },
      );
    },
  );
});

import { promisify } from "node:util";
import { brotliCompress, constants } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DecodeError } from "../../../../shared/util/errors.js";
import { MAX_DECODED_BODY_BYTES } from "../../../../shared/wire/body-codec.js";
import { decodeMessage, measureMessage } from "../../../../shared/wire/decoder.js";
import { envelopeAttributes, envelopeBody } from "../../../../shared/wire/envelope.js";
import { scanJson } from "../../../../shared/wire/json-bounds.js";

const LIMITS = { maxRecords: 1_000_000, maxValues: 10_000_000 };
const scan = (text: string, limits = LIMITS) => scanJson(Buffer.from(text), limits);

/** Values JSON.parse makes of `value`: itself, its members or elements, recursively. */
function valueCount(value: unknown): number {
  if (typeof value !== "object" || value === null) return 1;
  const items = Array.isArray(value) ? value : Object.values(value);
  return 1 + items.reduce((sum: number, item) => sum + valueCount(item), 0);
}

describe("scanJson", () => {
  it("counts the records of an envelope, not the elements of nested arrays", () => {
    expect(scan('{"auditq":1,"n":3,"records":[{"a":[1,2,3]},{},{"records":[1,2]}]}').records).toBe(
      3,
    );
    expect(scan('{"auditq":1,"records":[]}').records).toBe(0);
    expect(scan('{ "records" : [ {} , {} ] , "auditq" : 1 }').records).toBe(2);
    expect(scan('{"x":"\\"records\\"","y":[1,2,3]}').records).toBe(0);
    expect(scan('{"a":"records","b":[1,2]}').records).toBe(0);
  });

  it("matches the parsed count for any envelope, and bounds its values from above", () => {
    fc.assert(
      fc.property(fc.array(fc.object(), { maxLength: 20 }), (records) => {
        const text = envelopeBody(records.map((r) => JSON.stringify(r)));
        const shape = scan(text);
        expect(shape.records).toBe(records.length);
        expect(shape.values).toBeGreaterThanOrEqual(valueCount(JSON.parse(text)));
      }),
      { numRuns: 100 },
    );
  });

  it("refuses more records or values than allowed, naming the limit", () => {
    const text = envelopeBody(Array.from({ length: 11 }, () => "{}"));
    expect(() => scan(text, { maxRecords: 10, maxValues: 1000 })).toThrow(/more than 10 records/);
    expect(() => scan('{"a":[0,0,0,0,0,0]}', { maxRecords: 10, maxValues: 5 })).toThrow(
      /more than 5 JSON values/,
    );
  });
});

describe("measureMessage", () => {
  const brotli = promisify(brotliCompress);

  it("refuses a small compressed message that expands into millions of records, unparsed", async () => {
    // About 89 bytes of brotli for 30 MiB of `{},`: the amplification message of issue 12.
    const records = Math.floor((MAX_DECODED_BODY_BYTES - 64) / 3);
    const text = `{"auditq":1,"records":[${"{},".repeat(records - 1)}{}]}`;
    const params = { [constants.BROTLI_PARAM_QUALITY]: 5 };
    const body = (await brotli(Buffer.from(text), { params })).toString("base64");
    expect(body.length).toBeLessThan(2000);
    const message = { Body: body, MessageAttributes: envelopeAttributes("br") };
    await expect(measureMessage(message)).rejects.toThrow(/more than 10000 records/);
    await expect(decodeMessage(message)).rejects.toBeInstanceOf(DecodeError);
  });

  it("counts a plain record as one and an envelope by its records", async () => {
    expect((await measureMessage({ Body: '{"action":"x"}' })).shape.records).toBe(1);
    const body = envelopeBody(['{"a":1}', '{"a":2}']);
    expect((await measureMessage({ Body: body })).shape.records).toBe(2);
  });
});

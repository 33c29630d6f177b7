import { promisify } from "node:util";
import { brotliCompress, constants } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DecodeError } from "../../../../shared/util/errors.js";
import { MAX_DECODED_BODY_BYTES } from "../../../../shared/wire/body-codec.js";
import { decodeBody, decodeMessage, measureMessage } from "../../../../shared/wire/decoder.js";
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

describe("envelope keys in every spelling JSON.parse accepts (issue 25)", () => {
  const bound = { maxRecords: 10, maxValues: 1000 };
  const twenty = Array.from({ length: 20 }, () => "{}").join(",");
  /** An envelope of 20 records whose keys are spelled as given. */
  const envelope = (auditq: string, n: string, records: string) =>
    `{"${auditq}":1,"${n}":20,"${records}":[${twenty}]}`;
  const spellings: [string, string, string, string][] = [
    ["escaped records", "auditq", "n", "r\\u0065cords"],
    ["records escaped whole", "auditq", "n", "\\u0072\\u0065\\u0063\\u006f\\u0072\\u0064\\u0073"],
    ["upper-case hex digits", "auditq", "n", "rec\\u006Frds"],
    ["escaped auditq", "\\u0061uditq", "n", "records"],
    ["escaped n", "auditq", "\\u006e", "records"],
    ["every key escaped", "\\u0061uditq", "\\u006E", "\\u0072ecord\\u0073"],
  ];

  it.each(spellings)("%s: the record bound holds", (_, auditq, n, records) => {
    const text = envelope(auditq, n, records);
    // The parser sees an envelope of 20 records...
    expect(decodeBody(text)).toHaveLength(20);
    // ...and so does the bound, which refuses it beyond 10.
    expect(scan(text).records).toBe(20);
    expect(() => scan(text, bound)).toThrow(DecodeError);
  });

  it("counts the records array the parser keeps when the key is repeated in another spelling", () => {
    const text = `{"auditq":1,"records":[],"r\\u0065cords":[${twenty}]}`;
    expect(decodeBody(text)).toHaveLength(20);
    expect(() => scan(text, bound)).toThrow(/more than 10 records/);
  });

  it("refuses a top-level key whose escape the parser would refuse too", () => {
    expect(() => scan('{"r\\u00zzcords":[{}]}')).toThrow(DecodeError);
  });

  it("leaves escaped keys inside records and plain records alone", async () => {
    const text = '{"auditq":1,"n":1,"records":[{"k\\u0065y":"v","\\"q\\"":1}]}';
    expect(scan(text).records).toBe(1);
    expect(decodeBody(text)).toEqual([{ key: "v", '"q"': 1 }]);
    const plain = '{"caf\\u00e9":1,"\\u0072ecords":[1,2]}';
    expect((await measureMessage({ Body: plain })).shape.records).toBe(2);
    expect(await decodeMessage({ Body: plain })).toEqual([{ café: 1, records: [1, 2] }]);
  });

  it("refuses the 92-byte amplification message of issue 25, unparsed", async () => {
    const text = `{"auditq":1,"r\\u0065cords":[${"{},".repeat(239_999)}{}]}`;
    const params = { [constants.BROTLI_PARAM_QUALITY]: 5 };
    const body = (await promisify(brotliCompress)(Buffer.from(text), { params })).toString(
      "base64",
    );
    expect(body.length).toBeLessThan(200);
    const message = { Body: body, MessageAttributes: envelopeAttributes("br") };
    await expect(measureMessage(message)).rejects.toThrow(/more than 10000 records/);
  });
});

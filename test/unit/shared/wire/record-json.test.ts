import { EJSON, ObjectId } from "bson";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { serializeRecord } from "../../../../shared/wire/record-json.js";
import { anything, recordLike } from "../../../helpers/bson-values.js";

/** What serializeRecord must always equal: the text, or the error EJSON throws. */
function viaEjson(value: unknown): string | { threw: string } {
  try {
    return EJSON.stringify(value as never, { relaxed: true });
  } catch (err) {
    return { threw: String(err) };
  }
}

function viaSerializeRecord(value: unknown): string | { threw: string } {
  try {
    return serializeRecord(value as never);
  } catch (err) {
    return { threw: String(err) };
  }
}

describe("serializeRecord", () => {
  it("writes exactly what EJSON.stringify relaxed writes, for any value", () => {
    fc.assert(
      fc.property(fc.oneof(recordLike, anything), (value) => {
        expect(viaSerializeRecord(value)).toEqual(viaEjson(value));
      }),
      { numRuns: 3000 },
    );
  });

  it("writes an audit record's ObjectId and Date as EJSON relaxed does", () => {
    const record = {
      _id: new ObjectId("65f0c0ffee00000000000001"),
      ts: new Date("2026-11-27T21:10:00.000Z"),
      meta: {
        at: new Date("2026-11-27T21:10:00.123Z"),
        old: new Date(-1),
        far: new Date(253402300800000),
        ids: [new ObjectId("65f0c0ffee00000000000002"), 1],
      },
    };
    expect(serializeRecord(record)).toBe(
      '{"_id":{"$oid":"65f0c0ffee00000000000001"},"ts":{"$date":"2026-11-27T21:10:00Z"},' +
        '"meta":{"at":{"$date":"2026-11-27T21:10:00.123Z"},"old":{"$date":{"$numberLong":"-1"}},' +
        '"far":{"$date":{"$numberLong":"253402300800000"}},' +
        '"ids":[{"$oid":"65f0c0ffee00000000000002"},1]}}',
    );
    expect(serializeRecord(record)).toBe(EJSON.stringify(record, { relaxed: true }));
  });

  it("keeps a __proto__ key of a null-prototype object, as EJSON does", () => {
    const meta = Object.create(null) as Record<string, unknown>;
    Object.defineProperty(meta, "__proto__", { value: { a: 1 }, enumerable: true });
    meta.at = new Date(0);
    const record = { _id: new ObjectId(), meta, plain: meta };
    expect(serializeRecord(record)).toContain('"__proto__":{"a":1}');
    expect(serializeRecord(record)).toBe(EJSON.stringify(record, { relaxed: true }));
  });

  it("ignores a hidden toJSON method, as EJSON does", () => {
    const meta = { a: 1 };
    Object.defineProperty(meta, "toJSON", { value: () => "replaced", enumerable: false });
    const record = { _id: new ObjectId(), meta };
    expect(serializeRecord(record)).toContain('"meta":{"a":1}');
    expect(serializeRecord(record)).toBe(EJSON.stringify(record, { relaxed: true }));
  });

  it("fails on a circular record as EJSON does", () => {
    const record: Record<string, unknown> = { _id: new ObjectId() };
    record.self = { back: record };
    expect(() => serializeRecord(record)).toThrow(/circular structure to EJSON/);
  });
});

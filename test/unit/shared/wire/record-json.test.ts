import { Binary, Decimal128, EJSON, Int32, Long, ObjectId, Timestamp } from "bson";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { serializeRecord } from "../../../../shared/wire/record-json.js";

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

const objectId = fc
  .uint8Array({ minLength: 12, maxLength: 12 })
  .map((bytes) => new ObjectId(bytes));
// Around the edges EJSON relaxed cares about: before 1970, 1970 itself, year 10000, invalid.
const date = fc.oneof(
  fc.date({ noInvalidDate: false }),
  fc.integer({ min: -5, max: 5 }).map((ms) => new Date(ms)),
  fc.integer({ min: -5, max: 5 }).map((ms) => new Date(253402300800000 + ms)),
  fc.integer({ min: 0, max: 253402300799 }).map((s) => new Date(s * 1000)),
);
const otherBson = fc.oneof(
  fc.integer().map((n) => new Int32(n)),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((n) => Long.fromBigInt(n)),
  fc.constant(Decimal128.fromString("1.5")),
  fc.uint8Array({ maxLength: 8 }).map((b) => new Binary(b)),
  fc.constant(new Timestamp({ t: 1, i: 2 })),
);
const leaf = fc.oneof(
  objectId,
  date,
  otherBson,
  fc.double(),
  fc.constantFrom(-0, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, -(2 ** 31) - 1),
  fc.string({ unit: "binary" }),
);
const key = fc.oneof(
  fc.string({ unit: "binary", maxLength: 6 }),
  fc.constantFrom("__proto__", "_bsontype", "toJSON", "$oid", "$date", "0", "10", "constructor"),
);
const anything = fc.anything({
  key,
  values: [leaf],
  maxDepth: 4,
  withBoxedValues: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withBigInt: true,
  withDate: true,
  withTypedArray: true,
  withSparseArray: true,
  withObjectString: true,
});
/** Shaped like an audit record: ObjectId and Date on top, app data below. */
const recordLike = fc.record({
  _id: objectId,
  v: fc.constant(1),
  ts: date,
  actor: fc.record({ id: fc.option(fc.string()), ip: fc.string() }, { requiredKeys: ["id"] }),
  action: fc.string(),
  meta: fc.dictionary(key, anything, { noNullPrototype: false }),
});

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

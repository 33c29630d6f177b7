import { Binary, Decimal128, EJSON, Int32, Long, ObjectId, Timestamp } from "bson";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseRelaxedEjson } from "../../../../shared/wire/ejson-parse.js";
import { serializeRecord } from "../../../../shared/wire/record-json.js";

type Outcome = { value: unknown } | { threw: string };

function outcome(parse: (text: string) => unknown, text: string): Outcome {
  try {
    return { value: parse(text) };
  } catch (err) {
    return { threw: String(err) };
  }
}

const viaEjson = (text: string) => outcome((t) => EJSON.parse(t, { relaxed: true }), text);
const viaFastPath = (text: string) => outcome(parseRelaxedEjson, text);

/**
 * Deep equality strict enough for this job: same prototypes, same own keys in the same order,
 * Dates by time (NaN equals NaN), BSON values by type and canonical Extended JSON (an ObjectId
 * and a plain `{$oid}` object differ, which `toEqual` would not always see).
 */
function same(a: unknown, b: unknown, path = "$"): string | undefined {
  if (typeof a !== typeof b) return `${path}: ${typeof a} vs ${typeof b}`;
  if (typeof a !== "object" || a === null || b === null) {
    return Object.is(a, b) ? undefined : `${path}: ${String(a)} vs ${String(b)}`;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  if (Object.getPrototypeOf(x) !== Object.getPrototypeOf(y)) return `${path}: prototypes differ`;
  if (x instanceof Date) {
    return Object.is(x.getTime(), (y as unknown as Date).getTime()) ? undefined : `${path}: dates`;
  }
  if (typeof x._bsontype === "string") {
    const canonical = (v: unknown) => EJSON.stringify([v] as never, { relaxed: false });
    return canonical(x) === canonical(y)
      ? undefined
      : `${path}: ${canonical(x)} vs ${canonical(y)}`;
  }
  const kx = Object.keys(x);
  const ky = Object.keys(y);
  if (kx.join("\u0001") !== ky.join("\u0001")) return `${path}: keys ${kx} vs ${ky}`;
  for (const k of kx) {
    const d = same(x[k], y[k], `${path}.${k}`);
    if (d !== undefined) return d;
  }
  return undefined;
}

function expectSameAsEjson(text: string): void {
  const expected = viaEjson(text);
  const actual = viaFastPath(text);
  if ("threw" in expected || "threw" in actual) {
    expect(actual).toEqual(expected);
    return;
  }
  expect(same(actual.value, expected.value), text).toBeUndefined();
}

const hexChar = fc.constantFrom(..."0123456789abcdefABCDEFxg".split(""));
const objectId = fc
  .uint8Array({ minLength: 12, maxLength: 12 })
  .map((bytes) => new ObjectId(bytes));
const date = fc.oneof(
  fc.date({ noInvalidDate: false }),
  fc.integer({ min: -5, max: 5 }).map((ms) => new Date(ms)),
  fc.integer({ min: -5, max: 5 }).map((ms) => new Date(253402300800000 + ms)),
);
const otherBson = fc.oneof(
  fc.integer().map((n) => new Int32(n)),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((n) => Long.fromBigInt(n)),
  fc.constant(Decimal128.fromString("1.5")),
  fc.uint8Array({ maxLength: 8 }).map((b) => new Binary(b)),
  fc.constant(new Timestamp({ t: 1, i: 2 })),
  fc.constant(/a+b/gi),
);
/** Objects EJSON looks at twice: near-misses of the forms the fast path converts, and others. */
const dollarObject = fc.oneof(
  fc.array(hexChar, { minLength: 22, maxLength: 26 }).map((c) => ({ $oid: c.join("") })),
  fc.record({ $oid: fc.string(), x: fc.integer() }),
  fc.record({ $date: fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.constant({})) }),
  fc
    .date({ noInvalidDate: false })
    .map((d) => ({ $date: Number.isNaN(d.getTime()) ? "x" : d.toISOString() })),
  fc.constantFrom(
    { $date: { $numberLong: "-1" } },
    { $numberLong: "12" },
    { $undefined: true },
    { $ref: "c", $id: 1 },
    { $code: "f()" },
    { $oid: null, a: 1 },
    { $regex: "a", $options: "i" },
    { $foo: 1 },
    { a: 1, $oid: "65f0c0ffee00000000000001" },
    { $oid: "65f0c0ffee00000000000001", $undefined: true },
    { $date: "2026-11-27T21:10:00Z", $numberLong: "1" },
    { $date: "2026-11-27T21:10:00Z", a: { $oid: "65f0c0ffee00000000000001" } },
  ),
);
const leaf = fc.oneof(
  objectId,
  date,
  otherBson,
  dollarObject,
  fc.double(),
  fc.constantFrom(-0, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, -(2 ** 31) - 1),
  fc.string({ unit: "binary" }),
);
const key = fc.oneof(
  fc.string({ unit: "binary", maxLength: 6 }),
  fc.constantFrom("__proto__", "_bsontype", "$oid", "$date", "$numberLong", "a\u0000", "$", ""),
);
const anything = fc.anything({
  key,
  values: [leaf],
  maxDepth: 4,
  withNullPrototype: true,
  withBigInt: true,
  withDate: true,
  withSparseArray: true,
});
const recordLike = fc.record({
  _id: objectId,
  v: fc.constant(1),
  ts: date,
  actor: fc.record({ id: fc.option(fc.string()), ip: fc.string() }, { requiredKeys: ["id"] }),
  action: fc.string(),
  meta: fc.dictionary(key, anything, { noNullPrototype: false }),
});

/** The texts a producer writes: auditq's serializer, or EJSON relaxed / canonical directly. */
function texts(value: unknown): string[] {
  const out: string[] = [];
  for (const write of [
    () => serializeRecord(value as never),
    () => EJSON.stringify(value as never, { relaxed: true }),
    () => EJSON.stringify(value as never, { relaxed: false }),
  ]) {
    try {
      out.push(write());
    } catch {
      // Not serializable (bigint, circular...): nothing to parse for this writer.
    }
  }
  return out;
}

describe("parseRelaxedEjson", () => {
  it("returns exactly what EJSON.parse relaxed returns, for any serialized value", () => {
    fc.assert(
      fc.property(fc.oneof(recordLike, anything), (value) => {
        for (const text of texts(value)) expectSameAsEjson(text);
      }),
      { numRuns: 3000 },
    );
  });

  it("returns or throws what EJSON.parse relaxed does, for any JSON text and any text", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.json(),
          fc.string(),
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        (text) => expectSameAsEjson(text),
      ),
      { numRuns: 2000 },
    );
  });

  it("converts an audit record's ObjectId and Dates itself", () => {
    const text =
      '{"_id":{"$oid":"65f0c0ffee00000000000001"},"ts":{"$date":"2026-11-27T21:10:00Z"},' +
      '"ids":[{"$oid":"65F0C0FFEE00000000000002"},{"$date":"2026-11-27T21:10:00.123Z"}]}';
    const parsed = parseRelaxedEjson(text) as Record<string, unknown>;
    expect(parsed._id).toBeInstanceOf(ObjectId);
    expect(String(parsed._id)).toBe("65f0c0ffee00000000000001");
    expect(parsed.ts).toEqual(new Date("2026-11-27T21:10:00Z"));
    expectSameAsEjson(text);
  });

  it.each([
    ["a NUL in a key", '{"a\\u0000":1}'],
    ["a __proto__ key", '{"__proto__":{"$oid":"65f0c0ffee00000000000001"},"a":{"$date":"x"}}'],
    ["a date before 1970", '{"ts":{"$date":{"$numberLong":"-1"}}}'],
    ["a long", '{"n":{"$numberLong":"9007199254740993"}}'],
    ["a DBRef", '{"r":{"$ref":"c","$id":{"$oid":"65f0c0ffee00000000000001"}}}'],
    [
      "very deep nesting",
      `${"[".repeat(500)}{"$oid":"65f0c0ffee00000000000001"}${"]".repeat(500)}`,
    ],
    ["an ObjectId at the top", '{"$oid":"65f0c0ffee00000000000001"}'],
    ["a number", "12"],
  ])("leaves %s to EJSON's rules", (_, text) => {
    expectSameAsEjson(text);
  });

  it("follows EJSON when a prototype was polluted with a name EJSON looks up", () => {
    const text = '{"a":{"x":1},"b":[1]}';
    Object.defineProperty(Object.prototype, "$undefined", { value: 1, configurable: true });
    try {
      expectSameAsEjson(text);
      expect(parseRelaxedEjson(text)).toBeNull();
    } finally {
      delete (Object.prototype as Record<string, unknown>).$undefined;
    }
  });

  it("follows EJSON when Object.prototype has an enumerable key (the walk uses for-in)", () => {
    const text = '{"a":{"x":1},"_id":{"$oid":"65f0c0ffee00000000000001"}}';
    // Inherited, enumerable, and itself an $oid form: a walk that visited it would convert it
    // and give every parsed object an own "polluted" key.
    (Object.prototype as Record<string, unknown>).polluted = { $oid: "65f0c0ffee00000000000002" };
    try {
      expectSameAsEjson(text);
      const parsed = parseRelaxedEjson(text) as Record<string, unknown>;
      expect(Object.keys(parsed)).toEqual(["a", "_id"]);
      expect(Object.keys(parsed.a as object)).toEqual(["x"]);
    } finally {
      delete (Object.prototype as Record<string, unknown>).polluted;
    }
  });
});

import { EJSON, ObjectId } from "bson";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseRelaxedEjson } from "../../../../shared/wire/ejson-parse.js";
import { serializeRecord } from "../../../../shared/wire/record-json.js";
import { anything, recordLike } from "../../../helpers/bson-values.js";

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

/** The texts a producer writes: auditq's serializer, or EJSON relaxed / canonical directly. */
function texts(value: unknown): string[] {
  const out: string[] = [];
  for (const write of [
    () => serializeRecord(value as never),
    () => EJSON.stringify(value as never, { relaxed: true }),
    () => EJSON.stringify(value as never, { relaxed: false }),
  ]) {
    try {
      // A function, a symbol or undefined on its own is written as nothing (undefined, as by
      // JSON.stringify): no text to parse either.
      const text: string | undefined = write();
      if (text !== undefined) out.push(text);
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

// fast-check generators of the values an audit record can hold, BSON types and odd corners
// included, for the property tests that compare auditq's JSON writers and reader with EJSON's.
import { Binary, Decimal128, Int32, Long, ObjectId, Timestamp } from "bson";
import fc from "fast-check";

export const objectId = fc
  .uint8Array({ minLength: 12, maxLength: 12 })
  .map((bytes) => new ObjectId(bytes));

// Around the edges EJSON relaxed cares about: before 1970, 1970 itself, year 10000, invalid,
// and whole seconds (written without milliseconds) next to milliseconds in the same second.
export const date = fc.oneof(
  fc.date({ noInvalidDate: false }),
  fc.integer({ min: -5, max: 5 }).map((ms) => new Date(ms)),
  fc.integer({ min: -5, max: 5 }).map((ms) => new Date(253402300800000 + ms)),
  fc.integer({ min: 0, max: 253402300799 }).map((s) => new Date(s * 1000)),
  fc.integer({ min: 0, max: 999 }).map((ms) => new Date(1764547200000 + ms)),
);

// Strings of any code units: lone surrogates, controls, quotes, backslashes, U+FFFE.
export const text = fc.oneof(
  fc.string({ unit: "binary" }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.string({
    unit: fc.constantFrom("a", '"', "\\", "\u0000", "\u001f", "\ud800", "\udc00", "\ufffe"),
  }),
  fc.string({ unit: "binary-ascii", minLength: 120, maxLength: 140 }),
);

export const number = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(
    -0,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    2 ** 53,
    -(2 ** 31) - 1,
    1e21,
  ),
);

/** BSON values other than ObjectId and Date, and a RegExp (which EJSON writes as one). */
const otherBson = fc.oneof(
  fc.integer().map((n) => new Int32(n)),
  fc.constant(Long.fromNumber(7)),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((n) => Long.fromBigInt(n)),
  fc.constant(Decimal128.fromString("1.5")),
  fc.uint8Array({ maxLength: 8 }).map((b) => new Binary(b)),
  fc.constant(new Timestamp({ t: 1, i: 2 })),
  fc.constant(/a+b/gi),
);

const hexChar = fc.constantFrom(..."0123456789abcdefABCDEFxg".split(""));

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

/** Anything a single value can be: BSON types, near-miss `$` objects, and what JSON cannot hold. */
export const leaf = fc.oneof(
  { weight: 4, arbitrary: text },
  { weight: 2, arbitrary: number },
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  objectId,
  date,
  otherBson,
  dollarObject,
  fc.bigInt(),
  fc.constant(() => 1),
  fc.constant(Symbol("s")),
);

/** Object keys: short strings of any code units, and names some serializer or parser treats apart. */
export const key = fc.oneof(
  fc.string({ unit: "binary", maxLength: 6 }),
  fc.constantFrom(
    "__proto__",
    "_bsontype",
    "toJSON",
    "constructor",
    "$oid",
    "$date",
    "$numberLong",
    "$gt",
    "$",
    "",
    "a\u0000",
    "0",
    "10",
  ),
);

/** Nested app data of any shape (maps, sets, boxed values, typed and sparse arrays) with `leaf`s. */
export const anything = fc.anything({
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
export const recordLike = fc.record({
  _id: objectId,
  v: fc.constant(1),
  ts: date,
  actor: fc.record({ id: fc.option(fc.string()), ip: fc.string() }, { requiredKeys: ["id"] }),
  action: fc.string(),
  meta: fc.dictionary(key, anything, { noNullPrototype: false }),
});

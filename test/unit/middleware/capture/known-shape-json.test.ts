import { EJSON, Int32, Long, ObjectId } from "bson";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { capturedRecordJson } from "../../../../middleware/capture/known-shape-json.js";
import type { AuditRecord } from "../../../../shared/wire/record.js";

/** What capturedRecordJson must always equal: EJSON's text, or the error EJSON throws. */
function viaEjson(value: unknown): string | { threw: string } {
  try {
    return EJSON.stringify(value as never, { relaxed: true });
  } catch (err) {
    return { threw: String(err) };
  }
}

function viaCaptured(value: unknown): string | { threw: string } {
  try {
    return capturedRecordJson(value as AuditRecord);
  } catch (err) {
    return { threw: String(err) };
  }
}

const objectId = fc
  .uint8Array({ minLength: 12, maxLength: 12 })
  .map((bytes) => new ObjectId(bytes));
// Around the edges EJSON relaxed cares about: before 1970, 1970 itself, year 10000, invalid,
// and whole seconds (written without milliseconds).
const date = fc.oneof(
  fc.date({ noInvalidDate: false }),
  fc.integer({ min: -5, max: 5 }).map((ms) => new Date(ms)),
  fc.integer({ min: -5, max: 5 }).map((ms) => new Date(253402300800000 + ms)),
  fc.integer({ min: 0, max: 253402300799 }).map((s) => new Date(s * 1000)),
  fc.integer({ min: 0, max: 999 }).map((ms) => new Date(1764547200000 + ms)),
);
// Strings of any code units: lone surrogates, controls, quotes, backslashes, U+FFFE.
const text = fc.oneof(
  fc.string({ unit: "binary" }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.string({
    unit: fc.constantFrom("a", '"', "\\", "\u0000", "\u001f", "\ud800", "\udc00", "\ufffe"),
  }),
  fc.string({ unit: "binary-ascii", minLength: 120, maxLength: 140 }),
);
const number = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(
    -0,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    2 ** 53,
    1e21,
  ),
);
/** What a field of auditq's own can hold after an app's `redact.paths` or a mistake. */
const scalar = fc.oneof(
  { weight: 4, arbitrary: text },
  { weight: 2, arbitrary: number },
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  objectId,
  date,
  fc.bigInt(),
  fc.constant(() => 1),
  fc.constant(Symbol("s")),
  fc.integer().map((n) => new Int32(n)),
  fc.constant(Long.fromNumber(7)),
);
const key = fc.oneof(
  fc.string({ unit: "binary", maxLength: 6 }),
  fc.constantFrom(
    "__proto__",
    "_bsontype",
    "toJSON",
    "$oid",
    "$date",
    "$gt",
    "0",
    "10",
    "constructor",
  ),
);
/** App- or client-controlled data: query, params, headers, body, meta. */
const appData = fc.anything({
  key,
  values: [scalar],
  maxDepth: 3,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withBigInt: true,
  withDate: true,
  withTypedArray: true,
  withSparseArray: true,
});
/** A field that is usually its normal kind, sometimes anything at all. */
const usually = <T>(normal: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 5, arbitrary: normal }, { weight: 1, arbitrary: scalar });

/** Shaped like what middleware/capture/build.ts builds, fields optional as they are there. */
const captured = fc.record(
  {
    _id: usually(objectId),
    v: usually(fc.constant(1)),
    ts: usually(date),
    actor: usually(
      fc.record(
        { id: usually(fc.option(text)), type: text, ip: text, userAgent: text },
        { requiredKeys: ["id"] },
      ),
    ),
    action: usually(text),
    request: usually(
      fc.record(
        {
          method: usually(text),
          path: usually(text),
          route: usually(fc.option(text)),
          requestId: usually(text),
          params: appData,
          query: appData,
          headers: fc.dictionary(key, fc.oneof(text, fc.array(text))),
          body: appData,
        },
        { requiredKeys: ["method", "path", "route", "requestId"] },
      ),
    ),
    outcome: usually(
      fc.record(
        {
          status: usually(fc.integer({ min: 0, max: 999 })),
          durationMs: usually(number),
          aborted: usually(fc.constant(true)),
          error: text,
          errorStack: text,
        },
        { requiredKeys: ["status", "durationMs"] },
      ),
    ),
    service: usually(
      fc.record(
        { name: text, version: text, host: usually(text), pid: usually(fc.nat()) },
        { requiredKeys: ["host", "pid"] },
      ),
    ),
    target: usually(fc.record({ type: text, id: text })),
    meta: appData,
    trimmed: fc.array(text),
    captureError: text,
  },
  {
    requiredKeys: ["_id", "v", "ts", "actor", "action", "request", "outcome", "service"],
    noNullPrototype: false,
  },
);

describe("capturedRecordJson", () => {
  it("writes exactly what EJSON.stringify relaxed writes, for any record of capture's shape", () => {
    fc.assert(
      fc.property(captured, (record) => {
        expect(viaCaptured(record)).toEqual(viaEjson(record));
      }),
      { numRuns: 3000 },
    );
  });

  it("writes a typical record as EJSON does", () => {
    const record = {
      _id: new ObjectId("65f0c0ffee00000000000001"),
      v: 1,
      ts: new Date("2026-11-27T21:10:00.000Z"),
      actor: { id: null, ip: "127.0.0.1", userAgent: 'curl "8"' },
      action: "GET /orders/:id",
      request: {
        method: "GET",
        path: "/orders/7",
        route: "/orders/:id",
        requestId: "r1",
        params: { id: "7", at: new Date(5) },
      },
      outcome: { status: 200, durationMs: 1.25 },
      service: { host: "h", pid: 1 },
      meta: { __proto__: "x", fn: () => 1, u: undefined },
    };
    const text = capturedRecordJson(record as unknown as AuditRecord);
    expect(text).toBe(EJSON.stringify(record, { relaxed: true }));
    expect(text).toContain('"ts":{"$date":"2026-11-27T21:10:00Z"}');
    expect(text).toContain('"userAgent":"curl \\"8\\""');
  });

  it("writes a Date's milliseconds after another Date in the same second", () => {
    const base = Date.UTC(2026, 10, 30, 12, 0, 0);
    for (const ms of [0, 7, 42, 999, 0]) {
      const record = { _id: new ObjectId(), ts: new Date(base + ms) };
      expect(capturedRecordJson(record as unknown as AuditRecord)).toBe(
        EJSON.stringify(record, { relaxed: true }),
      );
    }
  });

  it("throws EJSON's own error on a circular record", () => {
    const record: Record<string, unknown> = { _id: new ObjectId(), actor: { id: null } };
    (record.actor as Record<string, unknown>).back = record;
    expect(viaCaptured(record)).toEqual(viaEjson(record));
    expect(() => capturedRecordJson(record as unknown as AuditRecord)).toThrow(/circular/);
  });

  it("follows EJSON when Object.prototype has a toJSON", () => {
    const record = { _id: new ObjectId(), v: 1, actor: { id: "a" } };
    Object.defineProperty(Object.prototype, "toJSON", {
      value: () => "replaced",
      configurable: true,
      enumerable: false,
      writable: true,
    });
    try {
      expect(viaCaptured(record)).toEqual(viaEjson(record));
    } finally {
      delete (Object.prototype as { toJSON?: unknown }).toJSON;
    }
  });
});

import { EJSON, ObjectId } from "bson";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { capturedRecordJson } from "../../../../middleware/capture/known-shape-json.js";
import type { AuditRecord } from "../../../../shared/wire/record.js";
import { anything, date, key, leaf, number, objectId, text } from "../../../helpers/bson-values.js";

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

/** App- or client-controlled data: query, params, headers, body, meta. */
const appData = anything;
/** What a field of auditq's own can hold after an app's `redact.paths` or a mistake. */
const scalar = leaf;
/** A field that is usually its normal kind, sometimes anything at all. */
const usually = <T>(normal: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 5, arbitrary: normal }, { weight: 1, arbitrary: scalar });

/**
 * Shaped like what middleware/capture/build.ts and middleware/record/build.ts build, fields
 * optional as they are there (a record of `audit.record()` has no request).
 */
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
    source: usually(fc.constantFrom("http", "record")),
    tenant: usually(text),
    causedBy: usually(
      fc.record(
        { requestId: usually(text), id: usually(objectId) },
        { requiredKeys: ["requestId"] },
      ),
    ),
    changes: fc.array(
      fc.record(
        {
          path: usually(text),
          op: usually(fc.constantFrom("add", "remove", "replace")),
          from: appData,
          to: appData,
        },
        { requiredKeys: ["path", "op"] },
      ),
    ),
    meta: appData,
    trimmed: fc.array(text),
    captureError: text,
    // What the batcher adds last, before it writes the record.
    seq: usually(fc.record({ stream: usually(text), n: usually(fc.nat()) })),
  },
  {
    requiredKeys: ["_id", "v", "ts", "actor", "action", "service"],
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

  it("follows JSON when Object.prototype has an enumerable key, which JSON leaves out", () => {
    const record = {
      _id: new ObjectId(),
      v: 1,
      actor: { id: "a" },
      request: { method: "GET", path: "/", route: null, requestId: "r" },
    };
    (Object.prototype as { polluted?: unknown }).polluted = "x";
    try {
      const text = capturedRecordJson(record as unknown as AuditRecord);
      expect(text).toBe(EJSON.stringify(record, { relaxed: true }));
      expect(text).not.toContain("polluted");
    } finally {
      delete (Object.prototype as { polluted?: unknown }).polluted;
    }
  });
});

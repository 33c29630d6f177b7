// req.audit.change(): the copy taken at the call, the JSON-Patch-like diff, and its redaction
// (pure logic; the record's end to end is in test/http/capture-changes.test.ts).
import { EJSON, ObjectId } from "bson";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CHANGES_TRUNCATED,
  type ChangePair,
  diffChanges,
  snapshot,
} from "../../../../middleware/capture/changes.js";
import { DEFAULT_CENSOR } from "../../../../middleware/capture/redact/censor.js";
import { DEFAULT_REDACT_KEYS } from "../../../../middleware/capture/redact/secret-keys.js";
import type { SanitizeRules } from "../../../../middleware/capture/sanitize.js";

const rules: SanitizeRules = {
  redactKeys: DEFAULT_REDACT_KEYS,
  censor: DEFAULT_CENSOR,
  maxDepth: 32,
};

function diff(before: unknown, after: unknown, budget = 65_536) {
  return diffChanges([{ before: snapshot(before), after: snapshot(after) }], rules, budget).changes;
}

describe("diffChanges", () => {
  it("lists added, removed and replaced paths as JSON Pointers, with old and new values", () => {
    const before = { status: "open", total: 10, lines: [{ sku: "a" }, { sku: "b" }], note: "x" };
    const after = { status: "paid", total: 10, lines: [{ sku: "a" }], "a/b~c": true };
    expect(diff(before, after)).toEqual([
      { path: "/status", op: "replace", from: "open", to: "paid" },
      { path: "/lines/1", op: "remove", from: { sku: "b" } },
      { path: "/note", op: "remove", from: "x" },
      { path: "/a~1b~0c", op: "add", to: true },
    ]);
  });

  it("compares arrays by index, adds at the end, removes from the end first", () => {
    expect(diff([1, 2, 3], [1, 9])).toEqual([
      { path: "/1", op: "replace", from: 2, to: 9 },
      { path: "/2", op: "remove", from: 3 },
    ]);
    expect(diff([1], [1, 2, 3])).toEqual([
      { path: "/1", op: "add", to: 2 },
      { path: "/2", op: "add", to: 3 },
    ]);
  });

  it("treats a created or deleted whole as add or remove of the root, and equal values as none", () => {
    expect(diff(undefined, { a: 1 })).toEqual([{ path: "", op: "add", to: { a: 1 } }]);
    expect(diff({ a: 1 }, undefined)).toEqual([{ path: "", op: "remove", from: { a: 1 } }]);
    const id = new ObjectId();
    const at = new Date(5);
    expect(
      diff(
        { id, at, n: Number.NaN },
        { id: new ObjectId(id.toHexString()), at: new Date(5), n: Number.NaN },
      ),
    ).toEqual([]);
  });

  it("keeps the op of a redacted path and drops its values: a changed password shows as changed", () => {
    const changes = diff(
      { password: "old-pw", user: { apiKey: "k1", name: "a" } },
      { password: "new-pw", user: { apiKey: "k2", name: "b" }, token: "t0" },
    );
    expect(changes).toEqual([
      { path: "/password", op: "replace" },
      { path: "/user/apiKey", op: "replace" },
      { path: "/user/name", op: "replace", from: "a", to: "b" },
      { path: "/token", op: "add" },
    ]);
    expect(diff({ password: "same" }, { password: "same" })).toEqual([]);
  });

  it("censors secrets nested inside values that are added, removed or replaced whole", () => {
    const changes = diff({ a: 1 }, { a: { password: "p1" }, b: [{ secret: "s1" }] });
    expect(changes).toEqual([
      { path: "/a", op: "replace", from: 1, to: { password: DEFAULT_CENSOR } },
      { path: "/b", op: "add", to: [{ secret: DEFAULT_CENSOR }] },
    ]);
  });

  it("does not descend into a redacted key: a changed object under it is one op, no values", () => {
    expect(
      diff({ credentials: { user: "u", pass: "a" } }, { credentials: { user: "u", pass: "b" } }),
    ).toEqual([{ path: "/credentials", op: "replace" }]);
  });

  it("ends the list with a truncation entry past its byte budget", () => {
    const before = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k${i}`, i]));
    const after = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k${i}`, -i]));
    const changes = diff(before, after, 1024);
    expect(changes.length).toBeLessThan(100);
    expect(changes.at(-1)).toEqual({ path: CHANGES_TRUNCATED, op: "replace" });
  });
});

describe("snapshot", () => {
  it("copies at the call: the app changing its objects afterwards changes nothing", () => {
    const after = { status: "paid", lines: [{ qty: 1 }] };
    const pair: ChangePair = {
      before: snapshot({ status: "open", lines: [{ qty: 1 }] }),
      after: snapshot(after),
    };
    after.status = "refunded";
    (after.lines[0] as { qty: number }).qty = 5;
    expect(diffChanges([pair], rules, 65_536).changes).toEqual([
      { path: "/status", op: "replace", from: "open", to: "paid" },
    ]);
  });

  it("turns cycles, depth, odd objects and throwing getters into markers, never throws", () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 40; i++) deep = deep.d = {} as Record<string, unknown>;
    const hostile = Object.defineProperty({}, "x", {
      enumerable: true,
      get() {
        throw new TypeError("no");
      },
    });
    const copy = snapshot({ cyclic, root, map: new Map([[1, 2]]), hostile, f: () => 1 }) as Record<
      string,
      unknown
    >;
    expect((copy.cyclic as Record<string, unknown>).self).toBe("[auditq: circular]");
    expect(JSON.stringify(copy.root)).toContain("[auditq: too deep]");
    expect(copy.map).toBe("[auditq: Map]");
    expect(copy.hostile).toBe("[auditq: unreadable: TypeError]");
    expect("f" in copy).toBe(false);
  });

  it("follows toJSON, as a record of a model object would be stored", () => {
    const model = { toJSON: () => ({ id: 7, name: "n" }) };
    expect(diff(model, { id: 7, name: "m" })).toEqual([
      { path: "/name", op: "replace", from: "n", to: "m" },
    ]);
  });
});

// Values under any key the default rules redact, at any depth, before and after.
const secretKey = fc.constantFrom("password", "apiKey", "token", "client_secret", "Authorization");
const secretValue = fc.string({ minLength: 6, maxLength: 20 }).map((s) => `S3CR3T-${s}`);
const plainKey = fc.constantFrom("name", "status", "items", "user", "n");

/** A JSON-like tree with secrets put under redacted keys at random places. */
const tree: fc.Arbitrary<unknown> = fc.letrec<{ node: unknown }>((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.string({ maxLength: 5 })),
    fc.array(tie("node"), { maxLength: 3 }),
    fc.dictionary(plainKey, tie("node"), { maxKeys: 3 }),
    fc
      .tuple(secretKey, secretValue, tie("node"))
      .map(([key, value, other]) => ({ [key]: value, other }) as unknown),
  ),
})).node;

function secretsIn(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string" && value.startsWith("S3CR3T-")) out.push(value);
  else if (typeof value === "object" && value !== null)
    for (const v of Object.values(value)) secretsIn(v, out);
  return out;
}

describe("change() property", () => {
  it("never stores a value found under a redacted key, whatever the two trees", () => {
    fc.assert(
      fc.property(tree, tree, (before, after) => {
        const text = EJSON.stringify(diff(before, after));
        for (const secret of [...secretsIn(before), ...secretsIn(after)]) {
          expect(text).not.toContain(secret);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("reports a change under a redacted key whenever its value changed", () => {
    fc.assert(
      fc.property(secretKey, secretValue, secretValue, (key, a, b) => {
        fc.pre(a !== b);
        expect(diff({ [key]: a }, { [key]: b })).toEqual([{ path: `/${key}`, op: "replace" }]);
      }),
    );
  });
});

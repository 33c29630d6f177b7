// Key escaping, censoring, markers and byte budgets of the sanitiser (pure logic).
import { EJSON, ObjectId } from "bson";
import { describe, expect, it } from "vitest";
import { DEFAULT_CENSOR } from "../../../../middleware/capture/redact/censor.js";
import { DEFAULT_REDACT_KEYS } from "../../../../middleware/capture/redact/secret-keys.js";
import {
  escapeKey,
  newState,
  type SanitizeRules,
  sanitize,
  TRUNCATED_KEY,
  unescapeKey,
} from "../../../../middleware/capture/sanitize.js";

const rules: SanitizeRules = {
  redactKeys: DEFAULT_REDACT_KEYS,
  censor: DEFAULT_CENSOR,
  maxDepth: 8,
};
const clean = (value: unknown, budget = 1 << 20) => sanitize(value, rules, newState(budget));

describe("escapeKey", () => {
  it.each([
    ["$oid", "%24oid"],
    ["a.b", "a%2Eb"],
    ["nul\0", "nul%00"],
    ["50%", "50%25"],
    ["a$b", "a$b"],
    ["", "%"],
    ["__proto__", "%5F_proto__"],
    ["constructor", "%63onstructor"],
    ["prototype", "%70rototype"],
    ["_bsontype", "%5Fbsontype"],
    ["plain", "plain"],
  ])("escapes %j as %j and back", (key, escaped) => {
    expect(escapeKey(key)).toBe(escaped);
    expect(unescapeKey(escaped)).toBe(key);
  });

  it("is reversible for keys that look escaped already", () => {
    for (const key of ["%24oid", "%", "%5F_proto__", "%%2E", "a%2"]) {
      expect(unescapeKey(escapeKey(key))).toBe(key);
    }
  });
});

describe("sanitize", () => {
  it("censors values under secret-looking keys at any depth, whatever they hold", () => {
    const out = clean({
      user: { Password: "hunter2", passwd: 1, profile: { apiKey: { nested: "k" } } },
      list: [{ access_token: "t" }, { "credit card": "4111" }],
      client_secret: ["s"],
      name: "ok",
    });
    expect(out).toEqual({
      user: {
        Password: DEFAULT_CENSOR,
        passwd: DEFAULT_CENSOR,
        profile: { apiKey: DEFAULT_CENSOR },
      },
      list: [{ access_token: DEFAULT_CENSOR }, { "credit card": DEFAULT_CENSOR }],
      client_secret: DEFAULT_CENSOR,
      name: "ok",
    });
  });

  it("keeps a user's {$oid} a plain object through Extended JSON", () => {
    const out = clean({ ref: { $oid: "6b09de6ba9569e22e7395b7b" } });
    const back = EJSON.parse(EJSON.stringify(out, { relaxed: true }), { relaxed: true });
    expect(back).toEqual({ ref: { "%24oid": "6b09de6ba9569e22e7395b7b" } });
  });

  it("never pollutes a prototype", () => {
    const hostile = JSON.parse('{"__proto__":{"polluted":1},"constructor":{"prototype":{"x":1}}}');
    const out = clean(hostile) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(out)).toEqual(["%5F_proto__", "%63onstructor"]);
  });

  it("turns what JSON cannot hold into safe values or markers", () => {
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    const out = clean({
      big: 12345678901234567890n,
      inf: [Number.NEGATIVE_INFINITY, Number.NaN, -0],
      fn: () => 1,
      sym: Symbol("s"),
      buf: Buffer.from("abc"),
      bad: new Date(Number.NaN),
      date: new Date(0),
      id: new ObjectId("6b09de6ba9569e22e7395b7b"),
      map: new Map([[1, 2]]),
      undef: undefined,
      circular,
      bsonLike: { _bsontype: "Code", value: "x" },
      url: new URL("https://example.com/a"),
      throwing: {
        get boom() {
          throw new Error("no");
        },
      },
    }) as Record<string, unknown>;
    expect(out).toMatchObject({
      big: "12345678901234567890",
      inf: ["-Infinity", "NaN", -0],
      fn: "[auditq: function]",
      sym: "[auditq: symbol]",
      buf: "[auditq: Buffer of 3 bytes]",
      bad: "[auditq: invalid date]",
      date: new Date(0),
      map: "[auditq: Map of 1 entries]",
      undef: null,
      circular: { a: 1, self: "[auditq: circular]" },
      bsonLike: { "%5Fbsontype": "Code", value: "x" },
      url: "https://example.com/a",
      throwing: "[auditq: unreadable: Error]",
    });
    expect(out.id).toBeInstanceOf(ObjectId);
    expect(() => EJSON.stringify(out as object)).not.toThrow();
  });

  it("keeps shared (non-circular) references", () => {
    const shared = { x: 1 };
    expect(clean({ a: shared, b: shared })).toEqual({ a: { x: 1 }, b: { x: 1 } });
  });

  it("bounds nesting depth", () => {
    let deep: unknown = "bottom";
    for (let i = 0; i < 20; i++) deep = { d: deep };
    expect(JSON.stringify(clean(deep))).toContain("[auditq: too deep]");
  });

  it("cuts strings, arrays and objects at the byte budget with a marker", () => {
    const state = newState(100);
    const out = sanitize(
      { long: "x".repeat(500), items: Array.from({ length: 50 }, (_, i) => i) },
      rules,
      state,
    ) as Record<string, unknown>;
    expect(state.truncated).toBe(true);
    expect(out.long).toMatch(new RegExp(`^x+\\${TRUNCATED_KEY.slice(0, 1)}`));
    expect(String(out.long).endsWith(TRUNCATED_KEY)).toBe(true);
    expect(JSON.stringify(out).length).toBeLessThan(260);
    expect(out[TRUNCATED_KEY]).toBe("1 more keys");
  });

  it("does not split a surrogate pair when cutting", () => {
    const out = clean("😀".repeat(100), 51) as string;
    expect(out.endsWith(TRUNCATED_KEY)).toBe(true);
    expect(Buffer.from(out, "utf8").toString("utf8")).toBe(out); // no lone surrogate
  });
});

describe("nested arrays", () => {
  it("wraps an array found directly inside an array, which FerretDB rejects", () => {
    expect(clean({ m: [[1, [2]], 3] })).toEqual({
      m: [{ "[auditq: array]": [1, { "[auditq: array]": [2] }] }, 3],
    });
  });
});

// Request ids, path censoring, path redaction and trimming to maxRecordBytes (pure logic).
import { ObjectId } from "bson";
import { describe, expect, it } from "vitest";
import {
  censorPathValues,
  censorUrl,
  redactPaths,
  scrubText,
} from "../../../../middleware/capture/redact/censor.js";
import { DEFAULT_REDACT_KEYS } from "../../../../middleware/capture/redact/secret-keys.js";
import { requestIdOf } from "../../../../middleware/capture/request-id.js";
import { trimToFit } from "../../../../middleware/capture/trim.js";
import { type AuditRecord, RECORD_VERSION } from "../../../../shared/wire/record.js";
import { serializeRecord } from "../../../../shared/wire/record-json.js";
import { utf8Bytes } from "../../../../shared/wire/sqs-limits.js";

describe("requestIdOf", () => {
  const fallback = () => "generated";
  const trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  it.each([
    [{ "x-request-id": "abc-123" }, "abc-123"],
    [{ "x-request-id": "has space", traceparent: `00-${trace}-00f067aa0ba902b7-01` }, trace],
    [{ traceparent: `00-${"0".repeat(32)}-00f067aa0ba902b7-01` }, "generated"],
    [{ traceparent: "garbage" }, "generated"],
    [{ "x-request-id": "x".repeat(129) }, "generated"],
    [{}, "generated"],
  ])("%j gives %s", (headers, id) => {
    expect(requestIdOf(headers, fallback)).toBe(id);
  });
});

describe("censorPathValues", () => {
  it("censors raw and URL-encoded values of redacted params", () => {
    expect(censorPathValues("/reset/s3cr3t/x", ["s3cr3t"], "***")).toBe("/reset/***/x");
    expect(censorPathValues("/k/a%20b", ["a b"], "***")).toBe("/k/***");
    expect(censorPathValues("/k/x", [""], "***")).toBe("/k/x");
  });

  it("compares segments after decoding, as Express decoded the params", () => {
    expect(censorPathValues("/reset/ab%2bcd/go", ["ab+cd"], "***")).toBe("/reset/***/go");
    expect(censorPathValues("/reset/%50ATH", ["PATH"], "***")).toBe("/reset/***");
    expect(censorPathValues("/f/%73ecret.txt", ["secret"], "***")).toBe("/f/***");
    // A value spanning segments cannot be cut out of one: the whole path goes.
    expect(censorPathValues("/x/a%2Fb/../a/b", ["a/b"], "***")).toBe("***");
  });
});

describe("censorUrl", () => {
  it.each([
    ["https://shop.example/p?access_token=x&a=1", "https://shop.example/p?***"],
    ["https://shop.example/p#id_token=x", "https://shop.example/p?***"],
    ["https://ann:pw@shop.example/p", "https://***@shop.example/p"],
    ["https://shop.example/p", "https://shop.example/p"],
    ["not a url?x", "not a url?***"],
  ])("%s → %s", (value, expected) => {
    expect(censorUrl(value, "***")).toBe(expected);
  });
});

describe("scrubText", () => {
  it.each([
    ["login failed: password=hunter2", "login failed: password=***"],
    ["GET /cb?code=abc&state=1 failed", "GET /cb?code=***&state=1 failed"],
    ['bad body {"apiKey":"k-1","name":"x"}', 'bad body {"apiKey":"***","name":"x"}'],
    ["pin: 1234, user: ann", "pin: ***, user: ann"],
    ["upstream said Bearer eyJhbGciOi.x.y", "upstream said Bearer ***"],
    ["page=2 sort=asc", "page=2 sort=asc"],
  ])("%s → %s", (text, expected) => {
    expect(scrubText(text, DEFAULT_REDACT_KEYS, "***")).toBe(expected);
  });
});

describe("DEFAULT_REDACT_KEYS", () => {
  it.each([
    "password",
    "newPassword",
    "PASSWD",
    "pwd",
    "pass",
    "user_pass",
    "passphrase",
    "client_secret",
    "access_token",
    "X-Api-Key",
    "authorization",
    "auth",
    "x-auth",
    "private_key",
    "privateKey",
    "credentials",
    "ssn",
    "userSSN",
    "pin",
    "PIN_CODE",
    "userPin",
    "otp",
    "otpCode",
    "cvv",
    "cvc",
    "creditCard",
    "card_number",
    "ccNumber",
    "iban",
    "code",
    "session",
    "sessionId",
    "jwt",
    "sig",
    "a[password]",
  ])("censors %s", (key) => {
    expect(DEFAULT_REDACT_KEYS.test(key)).toBe(true);
  });

  it.each([
    "shipping",
    "compass",
    "passenger",
    "author",
    "authorId",
    "className",
    "zipCode",
    "statusCode",
    "possession",
    "pinned",
    "spinner",
    "panel",
    "name",
    "email",
    "id",
  ])("keeps %s", (key) => {
    expect(DEFAULT_REDACT_KEYS.test(key)).toBe(false);
  });
});

describe("redactPaths", () => {
  it("censors exact paths and wildcards, with keys escaped as in the record", () => {
    const record = {
      meta: { card: { number: "4111", exp: "12/30" }, "a.b": 1 },
      request: { body: { items: [{ ssn: "1" }, { ssn: "2" }] } },
    };
    redactPaths(
      record,
      [
        ["meta", "card", "number"],
        ["request", "body", "items", "*", "ssn"],
        ["meta", "a%2Eb"],
        ["nope", "x"],
      ],
      "***",
    );
    expect(record).toEqual({
      meta: { card: { number: "***", exp: "12/30" }, "a.b": 1 },
      request: { body: { items: [{ ssn: "***" }, { ssn: "***" }] } },
    });
  });
});

function record(overrides: Partial<AuditRecord["request"]>, meta?: Record<string, unknown>) {
  const r: AuditRecord = {
    _id: new ObjectId(),
    v: RECORD_VERSION,
    ts: new Date(),
    actor: { id: "u1" },
    action: "POST /x",
    request: { method: "POST", path: "/x", route: "/x", requestId: "r", ...overrides },
    outcome: { status: 200, durationMs: 1 },
    service: { host: "h", pid: 1 },
  };
  if (meta !== undefined) r.meta = meta;
  return r;
}

describe("trimToFit", () => {
  it("leaves a record within the limit alone", () => {
    const r = record({ body: { a: 1 } });
    expect(trimToFit(r, 4096)).toEqual([]);
    expect(r.trimmed).toBeUndefined();
  });

  it("replaces the largest fields first until the record fits, and says which", () => {
    const r = record(
      { body: { text: "b".repeat(5000) }, query: { q: "q".repeat(3000) } },
      {
        note: "m".repeat(200),
      },
    );
    expect(trimToFit(r, 4096)).toEqual(["request.body"]);
    expect(r.request?.body).toMatch(/^\[auditq: trimmed \d+ bytes\]$/);
    expect(r.request?.query).toEqual({ q: "q".repeat(3000) });
    expect(r.trimmed).toEqual(["request.body"]);
    expect(utf8Bytes(serializeRecord(r))).toBeLessThanOrEqual(4096);

    const r2 = record({ body: "b".repeat(3000), query: { q: "q".repeat(2500) } });
    expect(trimToFit(r2, 2048)).toEqual(["request.body", "request.query"]);
    expect(utf8Bytes(serializeRecord(r2))).toBeLessThanOrEqual(2048);
  });

  it("counts JSON escapes, not characters", () => {
    const r = record({ body: "\u0001".repeat(1000) });
    expect(trimToFit(r, 2048)).toEqual(["request.body"]);
  });
});

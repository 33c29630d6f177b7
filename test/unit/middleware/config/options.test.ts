// Resolution and validation of the capture options.
import { describe, expect, it } from "vitest";
import { isHealthCheck } from "../../../../middleware/capture/health-check.js";
import { DEFAULT_HEADERS } from "../../../../middleware/config/option-table.js";
import { resolveOptions } from "../../../../middleware/config/resolve.js";
import { ConfigError } from "../../../../shared/util/errors.js";

const queueUrl = "http://127.0.0.1:9324/000000000000/q";

describe("capture options", () => {
  it("fills in every default", () => {
    const config = resolveOptions({ queueUrl });
    expect(config).toMatchObject({
      skip: isHealthCheck,
      methods: null,
      sampleRate: 1,
      censor: "[REDACTED]",
      headers: DEFAULT_HEADERS,
      captureBody: false,
      maxBodyBytes: 8192,
      maxRecordBytes: 65_536,
      captureErrorStack: false,
      redactPaths: [],
    });
    expect([...config.redactHeaders]).toContain("authorization");
    expect(config.redactKeys?.test("X-Api-Key")).toBe(true);
    expect(config.service).toEqual({ host: expect.any(String), pid: process.pid });
  });

  it.each([
    "https://sqs.us-east-1.amazonaws.com/123456789012/audit.fifo",
    "http://127.0.0.1:9324/000000000000/audit.fifo/",
  ])("refuses the FIFO queue %s, saying why", (fifo) => {
    expect(() => resolveOptions({ queueUrl: fifo })).toThrow(ConfigError);
    expect(() => resolveOptions({ queueUrl: fifo })).toThrow(/FIFO queue .*MessageGroupId/);
    expect(() => resolveOptions({ queueUrl: fifo.replace(".fifo", "-fifo") })).not.toThrow();
  });

  it("takes and normalises every capture option", () => {
    const config = resolveOptions({
      queueUrl,
      methods: ["post", "DELETE"],
      sampleRate: 0.25,
      redact: { headers: ["X-Session"], keys: ["SSN"], paths: ["meta.card.number"], censor: "***" },
      headers: ["User-Agent"],
      captureBody: true,
      maxBodyBytes: 100,
      maxRecordBytes: 2048,
      captureErrorStack: true,
      service: { name: "shop", version: "1.2.3" },
    });
    expect([...(config.methods ?? [])]).toEqual(["POST", "DELETE"]);
    expect([...config.redactHeaders]).toEqual(["x-session"]);
    expect(config.redactKeys?.test("ssn")).toBe(true);
    expect(config.redactKeys?.test("password")).toBe(false);
    expect(config.redactPaths).toEqual([["meta", "card", "number"]]);
    expect(config.headers).toEqual(["user-agent"]);
    expect(config.service).toMatchObject({ name: "shop", version: "1.2.3" });
  });

  it("drops the state flags of a global RegExp and turns key matching off with []", () => {
    const g = resolveOptions({ queueUrl, redact: { keys: /pin/gi } }).redactKeys;
    expect([g?.test("pin"), g?.test("pin")]).toEqual([true, true]);
    expect(resolveOptions({ queueUrl, redact: { keys: [] } }).redactKeys).toBeNull();
  });

  it.each([
    ["br", "br"],
    ["gzip", "gzip"],
    ["zstd", "zstd"],
    ["none", "identity"],
  ] as const)("takes compression %j as the body encoding %j", (compression, encoding) => {
    expect(resolveOptions({ queueUrl, compression }).compression).toBe(encoding);
  });

  it("keeps the default record cap within a small maxMessageBytes", () => {
    expect(resolveOptions({ queueUrl, maxMessageBytes: 4096 }).maxRecordBytes).toBe(3584);
  });

  it.each([
    [{ sampleRate: 2 }, "Expected `sampleRate` to be a number from 0 to 1, got `2` (number)"],
    [{ sampleRate: "1" }, 'Expected `sampleRate` to be a number from 0 to 1, got `"1"` (string)'],
    [{ methods: "POST" }, "Expected `methods` to be an array of non-empty strings"],
    [{ captureBody: 1 }, "Expected `captureBody` to be a boolean, got `1` (number)"],
    [{ skip: true }, "Expected `skip` to be a function, got `true` (boolean)"],
    [{ maxBodyBytes: 10 }, "Expected `maxBodyBytes` to be an integer from 64 to"],
    [{ maxRecordBytes: 300_000 }, "Expected `maxRecordBytes` to be an integer from 1024 to 261632"],
    [{ redact: { header: [] } }, "Unknown option `redact.header`"],
    [{ redact: "all" }, 'Expected `redact` to be an object, got `"all"` (string)'],
    [
      { redact: { keys: "password" } },
      "Expected `redact.keys` to be a RegExp, an array of non-empty strings, or an object with a test(key) method",
    ],
    [{ redact: { censor: 1 } }, "Expected `redact.censor` to be a string of at most 256"],
    [{ service: { nam: "x" } }, "Unknown option `service.nam`; did you mean `service.name`?"],
    [{ lingerMS: 5 }, "Unknown option `lingerMS`; did you mean `lingerMs`?"],
    [{ sqsQueueUrl: "x" }, "Unknown option `sqsQueueUrl`; did you mean `queueUrl`?"],
    [{ zebra: 1 }, /^Unknown option `zebra`$/],
    [{ headers: [""] }, "Expected `headers` to be an array of non-empty strings"],
    [
      { signingSecret: "hunter2" },
      "Expected `signingSecret` to be a string of 16 characters or more, got 7 characters",
    ],
  ])("rejects %j", (bad, message) => {
    const attempt = () => resolveOptions({ queueUrl, ...(bad as object) });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(message);
  });
});

// The delivery options: validation, defaults, and the SQS client auditq builds.
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SQSClient } from "@aws-sdk/client-sqs";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createClients } from "../../../../middleware/config/clients.js";
import { createMiddlewareMetrics } from "../../../../middleware/config/metrics.js";
import type { Options } from "../../../../middleware/config/options.js";
import { resolveOptions } from "../../../../middleware/config/resolve.js";
import { ConfigError } from "../../../../shared/util/errors.js";

const queueUrl = "http://127.0.0.1:9324/000000000000/q";

describe("delivery options", () => {
  it("defaults to brotli and a spool in a per-user directory of the tmpdir, one per queue", () => {
    const config = resolveOptions({ queueUrl });
    expect(config.compression).toBe("br");
    const hash = createHash("sha256").update(queueUrl).digest("hex").slice(0, 16);
    expect(hash).toMatch(/^[0-9a-f]{16}$/);
    expect(config.spool).toEqual({
      dir: join(tmpdir(), `auditq-spool-${process.getuid?.()}`, hash),
      maxBytes: 1024 * 1024 * 1024,
      afterMs: 5000,
      defaultDir: true,
      // Every level below the tmpdir is created and checked by auditq (spool/dir-chain.ts).
      top: tmpdir(),
    });
    const other = resolveOptions({ queueUrl: `${queueUrl}-2` }).spool;
    expect(other?.dir).not.toBe(config.spool?.dir);
  });

  it("turns the spool off with spool: false", () => {
    expect(resolveOptions({ queueUrl, spool: false }).spool).toBeUndefined();
  });

  it("fills in spool defaults", () => {
    expect(resolveOptions({ queueUrl, spool: { dir: "/tmp/x" } }).spool).toEqual({
      dir: "/tmp/x",
      maxBytes: 1024 * 1024 * 1024,
      afterMs: 5000,
      defaultDir: false,
    });
  });

  it.each([
    [{ compression: "lz4" }, /`compression` to be one of "br", "gzip", "zstd", "none"/],
    [{ spool: "/tmp/x" }, /`spool` to be an object or false/],
    [{ spool: true }, /`spool` to be an object or false/],
    [{ spool: null }, /`spool` to be an object or false/],
    [{ spool: {} }, /`spool.dir` to be a directory path/],
    [{ spool: { dir: "/tmp/x", size: 1 } }, /Unknown option `spool.size`/],
    [{ spool: { dir: "/tmp/x", maxBytes: 10 } }, /`spool.maxBytes` to be an integer/],
  ])("rejects %j", (extra, message) => {
    expect(() => resolveOptions({ queueUrl, ...(extra as object) })).toThrow(ConfigError);
    expect(() => resolveOptions({ queueUrl, ...(extra as object) })).toThrow(message);
  });

  it("builds a client that makes one attempt per call, unless told otherwise", async () => {
    const clientOf = (sqs: Options["sqs"]) => createClients(resolveOptions({ queueUrl, sqs })).sqs;
    const own = clientOf({ region: "us-east-1" });
    expect(await own.config.maxAttempts()).toBe(1);
    const three = clientOf({ region: "us-east-1", maxAttempts: 3 });
    expect(await three.config.maxAttempts()).toBe(3);
    const given = new SQSClient({ region: "us-east-1" });
    expect(clientOf(given)).toBe(given);
  });
});

describe("metrics on a shared registry", () => {
  it("lets two middlewares share one registry: counters and gauges add up", async () => {
    const registry = new Registry();
    const a = createMiddlewareMetrics(registry);
    const b = createMiddlewareMetrics(registry);
    a.recordsSent.inc(2);
    b.recordsSent.inc(3);
    a.bufferRecords.set(10);
    b.bufferRecords.set(5);
    a.bufferRecords.set(4);
    const text = await registry.metrics();
    expect(text).toMatch(/^auditq_records_sent_total 5$/m);
    expect(text).toMatch(/^auditq_buffer_records 9$/m);
  });
});

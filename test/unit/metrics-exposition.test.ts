// What a scrape shows before anything happened: the middleware on prom-client's global
// registry, labelled counters at zero, and auditq_build_info on both sides.
import { readFileSync } from "node:fs";
import { SQSClient } from "@aws-sdk/client-sqs";
import { Registry, register } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { auditq } from "../../middleware/index.js";
import { createSidecarMetrics } from "../../sidecar/config/metrics.js";
import { silentLogger } from "../helpers/logger.js";

const { version } = JSON.parse(
  readFileSync(new URL("../../package.json", import.meta.url), "utf8"),
) as { version: string };

const unreachable = () =>
  new SQSClient({
    endpoint: "http://127.0.0.1:9",
    region: "us-east-1",
    credentials: { accessKeyId: "x", secretAccessKey: "x" },
  });

function middleware(registry?: Registry) {
  return auditq({
    queueUrl: "http://127.0.0.1:9/000000000000/q",
    sqs: unreachable(),
    spool: false,
    logger: silentLogger,
    ...(registry ? { registry } : {}),
  });
}

describe("middleware metrics", () => {
  afterEach(() => register.clear());

  it("go on prom-client's global registry by default, so an existing /metrics shows them", async () => {
    const audit = middleware();
    expect(audit.registry).toBe(register);
    const text = await register.metrics();
    expect(text).toMatch(/^auditq_records_captured_total\{source="http"\} 0$/m);
    await audit.close();
  });

  it("go on an injected registry instead, leaving the global one alone", async () => {
    const mine = new Registry();
    const audit = middleware(mine);
    expect(audit.registry).toBe(mine);
    expect(await mine.metrics()).toMatch(/^auditq_records_captured_total\{source="http"\} 0$/m);
    expect(await register.metrics()).not.toMatch(/auditq_/);
    await audit.close();
  });

  it("start every drop reason, skip reason and capture error kind at zero", async () => {
    const audit = middleware();
    const text = await register.metrics();
    for (const reason of ["too_large", "buffer_full", "spool_full", "closed", "rejected"]) {
      expect(text).toContain(`auditq_records_dropped_total{reason="${reason}"} 0`);
    }
    for (const reason of ["method", "sample", "skip", "app"]) {
      expect(text).toContain(`auditq_records_skipped_total{reason="${reason}"} 0`);
    }
    expect(text).toContain('auditq_capture_errors_total{kind="actor"} 0');
    expect(text).toContain(
      'auditq_sqs_requests_total{operation="SendMessageBatch",outcome="error"} 0',
    );
    await audit.close();
  });

  it("state the auditq and Node versions in auditq_build_info, once for two middlewares", async () => {
    const a = middleware();
    const b = middleware();
    const lines = (await register.metrics())
      .split("\n")
      .filter((l) => l.startsWith("auditq_build_info"));
    expect(lines).toEqual([
      `auditq_build_info{component="middleware",version="${version}",node_version="${process.versions.node}"} 1`,
    ]);
    await Promise.all([a.close(), b.close()]);
  });
});

describe("sidecar metrics", () => {
  it("start every error stage and SQS operation at zero, with auditq_build_info", async () => {
    const registry = new Registry();
    createSidecarMetrics(registry, async () => undefined);
    const text = await registry.metrics();
    expect(text).toContain(
      `auditq_build_info{component="sidecar",version="${version}",node_version="${process.versions.node}"} 1`,
    );
    for (const stage of ["receive", "write", "quarantine", "delete", "visibility", "bootstrap"]) {
      expect(text).toContain(`auditq_sidecar_errors_total{stage="${stage}"} 0`);
    }
    expect(text).toContain(
      'auditq_sidecar_sqs_requests_total{operation="ReceiveMessage",outcome="error"} 0',
    );
    expect(text).toContain(
      'auditq_sidecar_sqs_billed_requests_total{operation="ReceiveMessage"} 0',
    );
  });

  it("share auditq_build_info with a middleware on the same registry", async () => {
    const registry = new Registry();
    createSidecarMetrics(registry, async () => undefined);
    const audit = middleware(registry);
    const text = await registry.metrics();
    expect(text).toMatch(/auditq_build_info\{component="sidecar"/);
    expect(text).toMatch(/auditq_build_info\{component="middleware"/);
    await audit.close();
  });
});

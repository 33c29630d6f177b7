// audit.record() and audit.as() on their own (pure logic, records kept by a fake sink): the
// record they build, the input they refuse, and the context AsyncLocalStorage carries.
import { setTimeout as delay } from "node:timers/promises";
import { ObjectId } from "bson";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createMiddlewareMetrics } from "../../../../middleware/config/metrics.js";
import type { Options } from "../../../../middleware/config/options.js";
import { resolveOptions } from "../../../../middleware/config/resolve.js";
import { ConfigError } from "../../../../middleware/index.js";
import { Recorder } from "../../../../middleware/record/recorder.js";
import type { AuditRecord } from "../../../../shared/wire/record.js";
import { metricValue } from "../../../helpers/metric-value.js";

function setup(options: Partial<Options> = {}) {
  const config = resolveOptions({
    queueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/audit",
    service: { name: "jobs" },
    ...options,
  });
  const registry = new Registry();
  const records: AuditRecord[] = [];
  const audit = new Recorder(config, createMiddlewareMetrics(registry), (r) => records.push(r));
  return { audit, records, registry };
}

describe("audit.record()", () => {
  it("builds a record of source `record`, without request, and returns its _id", async () => {
    const { audit, records, registry } = setup();
    const id = audit.record({
      actor: { id: 42, type: "service" },
      action: "invoice.send",
      target: { type: "invoice", id: 7 },
      outcome: {
        status: 500,
        durationMs: 12.34567,
        error: new Error("smtp said password=hunter2"),
      },
      meta: { to: "a@example.com", apiKey: "k-123" },
      tenant: "acme",
      requestId: "req-9",
    });
    expect(records).toHaveLength(1);
    const [r] = records as [AuditRecord];
    expect(r._id).toBe(id);
    expect(id).toBeInstanceOf(ObjectId);
    expect(r).toEqual({
      _id: id,
      v: 1,
      source: "record",
      ts: expect.any(Date),
      actor: { id: "42", type: "service" },
      action: "invoice.send",
      service: expect.objectContaining({ name: "jobs" }),
      tenant: "acme",
      causedBy: { requestId: "req-9" },
      target: { type: "invoice", id: "7" },
      outcome: { status: 500, durationMs: 12.346, error: "smtp said password=[REDACTED]" },
      meta: { to: "a@example.com", apiKey: "[REDACTED]" },
    });
    expect(r).not.toHaveProperty("request");
    expect(
      await metricValue(
        await registry.metrics(),
        'auditq_records_captured_total\\{source="record"\\}',
      ),
    ).toBe(1);
    expect(
      await metricValue(
        await registry.metrics(),
        'auditq_records_captured_total\\{source="http"\\}',
      ),
    ).toBe(0);
  });

  it("needs only an action: no actor gives `actor.id: null`, no outcome no field", () => {
    const { audit, records } = setup();
    audit.record({ action: "nightly.cleanup" });
    expect(records[0]).toMatchObject({ actor: { id: null }, action: "nightly.cleanup" });
    expect(records[0]).not.toHaveProperty("outcome");
    expect(records[0]).not.toHaveProperty("causedBy");
  });

  it("redacts record paths and trims to maxRecordBytes as captured records, counted by source", async () => {
    const { audit, records, registry } = setup({
      redact: { paths: ["meta.customer.ssn"] },
      maxRecordBytes: 1024,
    });
    audit.record({ action: "a", meta: { customer: { ssn: "123-45" } } });
    audit.record({ action: "b", meta: { blob: "x".repeat(5000) } });
    expect(records[0]?.meta).toEqual({ customer: { ssn: "[REDACTED]" } });
    expect(records[1]?.trimmed).toEqual(["meta"]);
    expect(
      await metricValue(
        await registry.metrics(),
        'auditq_records_trimmed_total\\{source="record"\\}',
      ),
    ).toBe(1);
  });

  it.each([
    [undefined, "record"],
    ["invoice.send", "record"],
    [{}, "record.action"],
    [{ action: "" }, "record.action"],
    [{ action: 5 }, "record.action"],
    [{ action: "a", actor: true }, "record.actor"],
    [{ action: "a", actor: { id: {} } }, "record.actor.id"],
    [{ action: "a", actor: { name: "x" } }, "record.actor.name"],
    [{ action: "a", target: "order" }, "record.target"],
    [{ action: "a", target: { type: "order" } }, "record.target.id"],
    [{ action: "a", outcome: { status: "ok", durationMs: 1 } }, "record.outcome.status"],
    [{ action: "a", outcome: { status: 200 } }, "record.outcome.durationMs"],
    [{ action: "a", meta: "note" }, "record.meta"],
    [{ action: "a", tenant: 3 }, "record.tenant"],
    [{ action: "a", requestId: "" }, "record.requestId"],
    [{ action: "a", acter: "x" }, "record.acter"],
  ])("refuses %j with a ConfigError naming %s, and records nothing", (input, option) => {
    const { audit, records } = setup();
    let thrown: unknown;
    try {
      audit.record(input as never);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect(thrown).toMatchObject({ option, message: expect.stringMatching(/^Expected `/) });
    expect(records).toEqual([]);
  });
});

describe("audit.as()", () => {
  it("gives record() its actor, tenant and request id, through timers and promises", async () => {
    const { audit, records } = setup();
    const result = await audit.as("worker-7", { tenant: "acme", requestId: "req-1" }, async () => {
      await delay(1);
      await Promise.resolve().then(() => audit.record({ action: "job.step" }));
      setImmediate(() =>
        audit.record({ action: "job.later", actor: "someone-else", tenant: "other" }),
      );
      await delay(5);
      return "done";
    });
    expect(result).toBe("done");
    expect(records.map((r) => [r.action, r.actor.id, r.tenant, r.causedBy])).toEqual([
      ["job.step", "worker-7", "acme", { requestId: "req-1" }],
      ["job.later", "someone-else", "other", { requestId: "req-1" }],
    ]);
  });

  it("nests: the inner actor wins, tenant and cause are inherited, and nothing leaks outside", () => {
    const { audit, records } = setup();
    audit.as({ id: "u1", type: "user" }, { tenant: "t1" }, () => {
      audit.as("cron", () => audit.record({ action: "inner" }));
      audit.record({ action: "outer" });
    });
    audit.record({ action: "outside" });
    expect(records.map((r) => [r.action, r.actor, r.tenant])).toEqual([
      ["inner", { id: "cron" }, "t1"],
      ["outer", { id: "u1", type: "user" }, "t1"],
      ["outside", { id: null }, undefined],
    ]);
  });

  it("refuses a missing actor, a wrong option or a missing function with a ConfigError", () => {
    const { audit } = setup();
    expect(() => audit.as(undefined, () => 1)).toThrow(ConfigError);
    expect(() => audit.as("a", { tenant: 1 } as never, () => 1)).toThrow(/as\.options\.tenant/);
    expect(() => audit.as("a", {} as never)).toThrow(/`as\.fn`/);
    expect(() => audit.as(true as never, () => 1)).toThrow(/`as\.actor`/);
  });
});

// Defaults that decide what is recorded at all: health checks and metric scrapes are skipped,
// and a second auditq middleware on one request leaves it to the first.
import type { Request, Response } from "express";
import request from "supertest";
import { describe, expect, it } from "vitest";
import type { AuditqMiddleware } from "../../middleware/index.js";
import type { Logger } from "../../shared/util/logger.js";
import { silentLogger } from "../helpers/logger.js";
import { expressVersions, harness } from "./harness.js";

async function metric(audit: AuditqMiddleware, name: string): Promise<string> {
  return (await audit.registry.getSingleMetricAsString(name)) ?? "";
}

describe.each(expressVersions)("defaults on $name", ({ express }) => {
  const appWith = (...audits: AuditqMiddleware[]) => {
    const app = express();
    for (const audit of audits) app.use(audit);
    const ok = (_req: Request, res: Response) => {
      res.send("ok");
    };
    app.all(["/healthz", "/health", "/metrics", "/readyz", "/orders"], ok);
    app.get("/", ok);
    return app;
  };

  it("skips health checks and metric scrapes by default, and counts them", async () => {
    const h = harness();
    const app = appWith(h.audit);
    await request(app).get("/healthz").expect(200);
    await request(app).head("/health/").expect(200);
    await request(app).get("/metrics").expect(200);
    await request(app).get("/READYZ").expect(200);
    await request(app).get("/").set("user-agent", "kube-probe/1.31").expect(200);
    await request(app).get("/").set("user-agent", "Prometheus/3.0.1").expect(200);
    await request(app).post("/health").expect(200); // not a probe: a write
    await request(app).get("/orders").expect(200);
    await h.audit.flush();
    const records = await h.records(2);
    expect(records.map((r) => `${r.request.method} ${r.request.path}`)).toEqual([
      "POST /health",
      "GET /orders",
    ]);
    expect(await metric(h.audit, "auditq_records_skipped_total")).toMatch(/reason="skip"} 6$/m);
    await h.audit.close();
  });

  it("records them anyway with skip: () => false", async () => {
    const h = harness({ skip: () => false });
    const app = appWith(h.audit);
    await request(app).get("/healthz").expect(200);
    await request(app).get("/").set("user-agent", "kube-probe/1.31").expect(200);
    const records = await h.records(2);
    expect(records.map((r) => r.request.path)).toEqual(["/healthz", "/"]);
    await h.audit.close();
  });

  it("leaves a request to the first of two middlewares: one record, one req.audit, one warning", async () => {
    const first = harness();
    const warnings: string[] = [];
    const logger: Logger = { ...silentLogger, warn: (_obj, msg) => warnings.push(String(msg)) };
    const second = harness({ logger });
    const app = express();
    app.use(first.audit);
    app.use(second.audit);
    app.put("/orders/:id", (req, res) => {
      req.audit.action("order.update").set({ by: "app" });
      res.send("ok");
    });
    await request(app).put("/orders/1").expect(200);
    await request(app).put("/orders/2").expect(200);
    const records = await first.records(2);
    expect(records.map((r) => [r.action, r.meta])).toEqual([
      ["order.update", { by: "app" }],
      ["order.update", { by: "app" }],
    ]);
    await second.audit.flush();
    expect(second.sink.records).toEqual([]);
    expect(await metric(second.audit, "auditq_records_skipped_total")).toMatch(
      /reason="nested"} 2$/m,
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/second auditq middleware/);
    await first.audit.close();
    await second.audit.close();
  });
});

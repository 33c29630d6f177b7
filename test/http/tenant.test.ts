// The `tenant` option: resolved once at the end of each request and stored as `tenant`.
import request from "supertest";
import { afterEach, describe, expect, it } from "vitest";
import { createCaptureApp, expressVersions, type Harness, harness } from "./harness.js";

describe.each(expressVersions)("tenant on $name", ({ express, major }) => {
  let h: Harness;
  const setup = (options: Parameters<typeof harness>[0] = {}) => {
    h = harness(options);
    return createCaptureApp(express, h.audit, major);
  };
  afterEach(async () => {
    await h.audit.close();
  });

  it("stores what the option returns as `tenant`, text; none when it returns nothing", async () => {
    const app = setup({ tenant: (req) => (req.get("x-tenant") === "7" ? 7 : req.get("x-tenant")) });
    await request(app).get("/shops/1/orders/2").set("x-tenant", "acme").expect(200);
    await request(app).get("/shops/1/orders/3").set("x-tenant", "7").expect(200);
    await request(app).get("/shops/1/orders/4").expect(200);
    const docs = await h.records(3);
    const byPath = new Map(docs.map((d) => [d.request.path, d.tenant]));
    expect(byPath.get("/shops/1/orders/2")).toBe("acme");
    expect(byPath.get("/shops/1/orders/3")).toBe("7");
    expect(docs.find((d) => d.request.path === "/shops/1/orders/4")).not.toHaveProperty("tenant");
    expect(h.errors).toEqual([]);
  });

  it("a record has no tenant without the option", async () => {
    const app = setup();
    await request(app).get("/shops/1/orders/2").set("x-tenant", "acme").expect(200);
    const [doc] = await h.records(1);
    expect(doc).not.toHaveProperty("tenant");
  });

  it("a tenant function that throws or returns an object loses the tenant, not the record", async () => {
    let calls = 0;
    const app = setup({
      tenant: () => {
        calls++;
        if (calls === 1) throw new Error("tenant broke");
        return { $ne: null } as never;
      },
    });
    await request(app).get("/shops/1/orders/2").expect(200);
    await request(app).get("/shops/1/orders/3").expect(200);
    const docs = await h.records(2);
    for (const doc of docs) expect(doc).not.toHaveProperty("tenant");
    expect(calls).toBe(2);
    expect(h.errors.map((e) => (e.cause as Error).message)).toEqual(["tenant broke"]);
    const metric = await h.audit.registry.getSingleMetricAsString("auditq_capture_errors_total");
    expect(metric).toMatch(/kind="tenant"} 1/);
  });

  it("audit.record() in the work a request starts takes the request's tenant, after the response too", async () => {
    h = harness({ tenant: (req) => req.get("x-tenant") });
    const a = express();
    a.use(h.audit);
    a.post("/reports", (_req, res) => {
      h.audit.record({ action: "report.queued" });
      res.status(202).send("queued");
      setTimeout(() => h.audit.record({ action: "report.built" }), 5);
    });
    await request(a).post("/reports").set("x-tenant", "acme").expect(202);
    const docs = await h.records(3);
    expect(docs.map((d) => [d.action, d.tenant]).sort()).toEqual([
      ["POST /reports", "acme"],
      ["report.built", "acme"],
      ["report.queued", "acme"],
    ]);
    expect(h.errors).toEqual([]);
  });
});

// What auditq records for real requests, on Express 4 and Express 5 alike.
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { ObjectId } from "bson";
import request from "supertest";
import { afterEach, describe, expect, it } from "vitest";
import { createCaptureApp, expressVersions, type Harness, harness } from "./harness.js";

describe.each(expressVersions)("capture on $name", ({ express, major }) => {
  let h: Harness;
  const setup = (options: Parameters<typeof harness>[0] = {}) => {
    h = harness(options);
    return createCaptureApp(express, h.audit, major);
  };
  afterEach(async () => {
    await h.audit.close();
    expect(h.errors).toEqual([]);
  });

  it("records one full document per request, the actor set by auth that ran after auditq", async () => {
    const app = setup({ service: { name: "shop", version: "1.0.0" } });
    await request(app)
      .get("/shops/7/orders/42?expand=lines&token=abc")
      .set("x-user", "user-1")
      .set("user-agent", "test-agent")
      .set("x-request-id", "req-1")
      .set("authorization", "Bearer never-stored")
      .expect(200);
    const [doc] = await h.records(1);
    expect(doc).toEqual({
      _id: expect.any(ObjectId),
      v: 2,
      source: "http",
      seq: { stream: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/), n: 1 },
      ts: expect.any(Date),
      actor: { id: "user-1", ip: expect.any(String), userAgent: "test-agent" },
      action: "GET /shops/:shopId/orders/:id",
      request: {
        method: "GET",
        path: "/shops/7/orders/42",
        route: "/shops/:shopId/orders/:id",
        // The orders router does not mergeParams; the params of its mount are kept too.
        params: { shopId: "7", id: "42" },
        query: { expand: "lines", token: "[REDACTED]" },
        requestId: "req-1",
        headers: { host: expect.stringMatching(/^127\.0\.0\.1:\d+$/) },
      },
      outcome: { status: 200, durationMs: expect.any(Number) },
      service: { name: "shop", version: "1.0.0", host: expect.any(String), pid: process.pid },
    });
    expect(JSON.stringify(doc)).not.toContain("never-stored");
    expect(JSON.stringify(doc)).not.toContain("abc");
  });

  it("records what the app adds through req.audit: action, target, meta (redacted), merged once", async () => {
    const app = setup();
    await request(app).put("/shops/1/orders/9").send({ qty: 2 }).expect(200);
    const [doc] = await h.records(1);
    expect(doc).toMatchObject({
      action: "order.update",
      target: { type: "order", id: "9" },
      meta: { changed: ["qty"], password: "[REDACTED]", reason: "customer" },
      request: { route: "/shops/:shopId/orders/:id" },
      actor: { id: null },
    });
    expect(doc?.request.body).toBeUndefined();
    // Without an incoming id, a random one: never the `_id`, whose hex predicts later `_id`s.
    expect(doc?.request.requestId).toMatch(
      /^[\da-f]{8}-[\da-f]{4}-4[\da-f]{3}-[\da-f]{4}-[\da-f]{12}$/,
    );
    expect(doc?.request.requestId).not.toContain(String(doc?._id));
  });

  it("records the error an async handler threw, message only, with the route it came from", async () => {
    const app = setup();
    await request(app)
      .delete("/shops/3/orders/5")
      .expect(500, { error: "internal", leaked: false });
    const [doc] = await h.records(1);
    expect(doc?.outcome).toEqual({
      status: 500,
      durationMs: expect.any(Number),
      error: "cannot delete order 5",
    });
    // Express restores baseUrl and params before app-level error handlers run.
    expect(doc?.action).toBe("DELETE /shops/:shopId/orders/:id");
    expect(doc?.request.params).toEqual({ shopId: "3", id: "5" });
  });

  it("records the stack only when asked", async () => {
    const app = setup({ captureErrorStack: true });
    await request(app).delete("/shops/3/orders/5").expect(500);
    const [doc] = await h.records(1);
    expect(doc?.outcome.errorStack).toMatch(/^Error: cannot delete order 5\n\s+at /);
  });

  it("records the body parsers left, capped, with secrets censored", async () => {
    const app = setup({ captureBody: true, maxBodyBytes: 200 });
    await request(app)
      .post("/shops/1/orders")
      .send({
        item: "book",
        payment: { "credit-card": "4111111111111111" },
        notes: "n".repeat(500),
      })
      .expect(201);
    const [doc] = await h.records(1);
    expect(doc?.request.body).toMatchObject({
      item: "book",
      payment: { "credit-card": "[REDACTED]" },
      notes: expect.stringMatching(/^n+\[auditq: truncated\]$/),
    });
    expect(JSON.stringify(doc)).not.toContain("4111");
  });

  it("uses the method and the raw path when no route matched, and bounds the path", async () => {
    const app = setup();
    await request(app)
      .get(`/nope/${"x".repeat(3000)}`)
      .expect(404);
    const [doc] = await h.records(1);
    expect(doc?.request.route).toBeNull();
    expect(doc?.outcome.status).toBe(404);
    expect(doc?.action).toMatch(/^GET \/nope\/x+\[auditq: truncated\]$/);
    expect(doc?.action.length).toBeLessThan(1100);
  });

  it("censors a redacted route param in the recorded path too", async () => {
    const app = setup();
    await request(app).get("/reset/s3cr3t-t0ken").expect(200);
    const [doc] = await h.records(1);
    expect(doc?.request).toMatchObject({
      path: "/reset/[REDACTED]",
      params: { token: "[REDACTED]" },
      route: "/reset/:token",
    });
    expect(JSON.stringify(doc)).not.toContain("s3cr3t");
  });

  it("records HEAD, OPTIONS and 304 responses", async () => {
    const app = setup();
    const first = await request(app).get("/etag").expect(200);
    await request(app)
      .get("/etag")
      .set("if-none-match", first.headers.etag as string)
      .expect(304);
    await request(app).head("/shops/1/orders/2").expect(200);
    await request(app).options("/shops/1/orders/2").expect(200);
    const docs = await h.records(4);
    expect(docs.map((d) => [d.action, d.outcome.status])).toEqual([
      ["GET /etag", 200],
      ["GET /etag", 304],
      ["HEAD /shops/:shopId/orders/:id", 200],
      ["OPTIONS /shops/1/orders/2", 200],
    ]);
  });

  it("records a streamed response once it ends", async () => {
    const app = setup();
    await request(app).get("/stream-complete").expect(200, "ab");
    const [doc] = await h.records(1);
    expect(doc?.outcome).toEqual({ status: 200, durationMs: expect.any(Number) });
  });

  it("records an aborted request (client destroys the socket mid-response) as aborted, 499", async () => {
    const app = setup();
    const server = app.listen(0, "127.0.0.1");
    await once(server, "listening");
    try {
      const { port } = server.address() as AddressInfo;
      const req = http.get({ host: "127.0.0.1", port, path: "/stream" });
      const [res] = (await once(req, "response")) as [http.IncomingMessage];
      await once(res, "data");
      req.on("error", () => undefined); // "socket hang up" after our own destroy
      req.destroy();
      const [doc] = await h.records(1);
      expect(doc?.outcome).toEqual({ status: 499, durationMs: expect.any(Number), aborted: true });
      expect(doc?.action).toBe("GET /stream");
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it("skips by methods, skip(), req.audit.skip() and sampleRate, and counts each", async () => {
    const app = setup({
      methods: ["GET", "POST"],
      skip: (req) => req.path === "/etag",
      sampleRate: 0,
    });
    await request(app).put("/shops/1/orders/9").send({}).expect(200); // method
    await request(app).get("/private").expect(200); // sample (a read at rate 0)
    await request(app).post("/shops/1/orders").send({}).expect(201); // recorded
    const docs = await h.records(1);
    expect(docs.map((d) => d.action)).toEqual(["POST /shops/:shopId/orders/"]);
    const metric = await h.audit.registry.getSingleMetricAsString("auditq_records_skipped_total");
    expect(metric).toMatch(/reason="method"} 1/);
    expect(metric).toMatch(/reason="sample"} 1/);
  });

  it("counts skip() and req.audit.skip() apart", async () => {
    const app = setup({ skip: (req) => req.path === "/etag" });
    await request(app).get("/etag").expect(200);
    await request(app).get("/private").expect(200);
    await request(app).get("/reset/x").expect(200);
    const docs = await h.records(1);
    expect(docs.map((d) => d.action)).toEqual(["GET /reset/:token"]);
    const metric = await h.audit.registry.getSingleMetricAsString("auditq_records_skipped_total");
    expect(metric).toMatch(/reason="skip"} 1/);
    expect(metric).toMatch(/reason="app"} 1/);
  });

  it("never breaks the app when its own hooks throw: the record is kept and the error counted", async () => {
    h = harness({
      actor: () => {
        throw new Error("actor broke");
      },
      skip: () => {
        throw new Error("skip broke");
      },
    });
    const app = createCaptureApp(express, h.audit, major);
    await request(app).get("/shops/1/orders/2").expect(200, { id: "2" });
    const [doc] = await h.records(1);
    expect(doc?.actor.id).toBeNull();
    expect(h.errors.map((e) => (e.cause as Error).message).sort()).toEqual([
      "actor broke",
      "skip broke",
    ]);
    const metric = await h.audit.registry.getSingleMetricAsString("auditq_capture_errors_total");
    expect(metric).toMatch(/kind="actor"} 1/);
    h.errors.length = 0;
  });

  it("keeps an oversized record within maxRecordBytes by trimming its largest field", async () => {
    const app = setup({ captureBody: true, maxBodyBytes: 60_000, maxRecordBytes: 4096 });
    await request(app)
      .post("/shops/1/orders")
      .send({ blob: "z".repeat(50_000) })
      .expect(201);
    const [doc] = await h.records(1);
    expect(doc?.request.body).toMatch(/^\[auditq: trimmed \d+ bytes\]$/);
    expect(doc?.trimmed).toEqual(["request.body"]);
    const metric = await h.audit.registry.getSingleMetricAsString("auditq_records_trimmed_total");
    expect(metric).toMatch(/ 1$/m);
  });

  it.each([
    [
      "req.user._id (an ObjectId)",
      { user: { _id: new ObjectId("6b09de6ba9569e22e7395b7b") } },
      "6b09de6ba9569e22e7395b7b",
    ],
    ["req.auth.sub", { auth: { sub: "auth0|42" } }, "auth0|42"],
    ["nothing", {}, null],
  ])("finds the actor by default in %s", async (_where, props, id) => {
    h = harness();
    const app = express();
    app.use(h.audit);
    app.use((req, _res, next) => {
      Object.assign(req, props);
      next();
    });
    app.get("/me", (_req, res) => {
      res.send("me");
    });
    await request(app).get("/me").expect(200);
    const [doc] = await h.records(1);
    expect(doc?.actor.id).toBe(id);
  });

  it("takes { id, type } from the actor option and censors redact.paths", async () => {
    const app = setup({
      captureBody: true,
      actor: () => ({ id: 7, type: "service" }),
      redact: { paths: ["request.body.customer.birthDate", "request.body.items.*.sku"] },
    });
    await request(app)
      .post("/shops/1/orders")
      .send({
        customer: { birthDate: "1970-01-01", name: "A" },
        items: [{ sku: "a" }, { sku: "b", n: 1 }],
      })
      .expect(201);
    const [doc] = await h.records(1);
    expect(doc?.actor).toMatchObject({ id: "7", type: "service" });
    expect(doc?.request.body).toEqual({
      customer: { birthDate: "[REDACTED]", name: "A" },
      items: [{ sku: "[REDACTED]" }, { sku: "[REDACTED]", n: 1 }],
    });
  });

  it("lets two middlewares live in one process, each counting its own records", async () => {
    const app = setup();
    const other = harness();
    const second = express();
    second.use(other.audit);
    second.get("/x", (_req, res) => {
      res.send("x");
    });
    await request(app).get("/etag").expect(200);
    await request(second).get("/x").expect(200);
    await h.records(1);
    await other.records(1);
    await other.audit.close();
    for (const registry of [h.audit.registry, other.audit.registry]) {
      const metric = await registry.getSingleMetricAsString("auditq_records_captured_total");
      expect(metric).toMatch(/ 1$/m);
    }
  });
});

// req.audit.change() in a real app, Express 4 and 5: the record's `changes`, redacted, copied at
// the call, and bounded by maxRecordBytes.
import request from "supertest";
import { afterEach, describe, expect, it } from "vitest";
import { expressVersions, type Harness, harness } from "./harness.js";

describe.each(expressVersions)("req.audit.change() on $name", ({ express }) => {
  let h: Harness;
  afterEach(async () => {
    await h.audit.close();
    expect(h.errors).toEqual([]);
  });

  function app(options: Parameters<typeof harness>[0] = {}) {
    h = harness(options);
    const a = express();
    a.use(h.audit);
    a.use(express.json());
    a.put("/users/:id", (req, res) => {
      const before = { name: "Ann", password: "old-Pa55", address: { city: "Oslo" } };
      const after = { ...before, ...req.body, address: { city: req.body.city ?? "Oslo" } };
      delete after.city;
      req.audit.change(before, after);
      // Changed after the call: the record keeps what the call saw.
      after.name = "changed later";
      res.json({ ok: true });
    });
    return a;
  }

  it("stores what changed, a changed password as changed without its values", async () => {
    await request(app())
      .put("/users/1")
      .send({ name: "Bea", password: "new-Pa55", city: "Bergen" })
      .expect(200);
    const [doc] = await h.records(1);
    expect(doc?.source).toBe("http");
    expect(doc?.changes).toEqual([
      { path: "/name", op: "replace", from: "Ann", to: "Bea" },
      { path: "/password", op: "replace" },
      { path: "/address/city", op: "replace", from: "Oslo", to: "Bergen" },
    ]);
    const text = JSON.stringify(doc);
    expect(text).not.toContain("Pa55");
    expect(text).not.toContain("changed later");
  });

  it("stores an empty list when nothing changed, and no field when change() was not called", async () => {
    const a = app();
    a.get("/plain", (_req, res) => {
      res.send("x");
    });
    await request(a).put("/users/1").send({}).expect(200);
    await request(a).get("/plain").expect(200);
    const docs = await h.records(2);
    expect(docs.find((d) => d.request.path === "/users/1")?.changes).toEqual([]);
    expect(docs.find((d) => d.request.path === "/plain")).not.toHaveProperty("changes");
  });

  it("applies redact.paths to changes like to every field", async () => {
    await request(app({ redact: { paths: ["changes.*.from"] } }))
      .put("/users/1")
      .send({ name: "Bea" })
      .expect(200);
    const [doc] = await h.records(1);
    expect(doc?.changes).toEqual([{ path: "/name", op: "replace", from: "[REDACTED]", to: "Bea" }]);
  });

  it("keeps the record within maxRecordBytes: values give way first, paths stay", async () => {
    await request(app({ maxRecordBytes: 2048 }))
      .put("/users/1")
      .send({ name: "x".repeat(5000) })
      .expect(200);
    const [doc] = await h.records(1);
    expect(doc?.trimmed).toEqual(["changes"]);
    expect(doc?.changes).toEqual([
      { path: "/name", op: "replace" },
      { path: expect.stringMatching(/^\[auditq: trimmed \d+ bytes\]$/), op: "replace" },
    ]);
    expect(JSON.stringify(doc).length).toBeLessThan(2048);
  });
});

// The viewer's scope on FerretDB: every query, page, cursor and export stays inside scope(req);
// a parameter that would widen it answers 403; a broken scope fails closed.
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditRecord } from "../../../shared/wire/record.js";
import { createReader, type Reader } from "../../../sidecar/read/index.js";
import type { TestDb } from "../../helpers/services.js";
import { openSampleTrail, type SampleTrailDb, viewerApp } from "../../helpers/viewer-app.js";
import { expressVersions } from "../../http/harness.js";

let fixture: SampleTrailDb;
let testDb: TestDb;
let reader: Reader;
let trail: AuditRecord[];
beforeAll(async () => {
  fixture = await openSampleTrail(30);
  ({ testDb, reader, trail } = fixture);
});
afterAll(() => fixture.dispose());

interface Shown {
  _id: { $oid: string };
  tenant: string;
  actor: { id: string };
  ts: { $date: string };
}
const idsOf = (records: AuditRecord[]) =>
  records.map((r) => r._id.toHexString()).sort((a, b) => b.localeCompare(a));

describe.each(expressVersions)("viewer scope on $name", ({ express }) => {
  // The tenant comes from the request, as it would from a session.
  const scoped = () =>
    viewerApp(express, {
      reader,
      authorize: () => true,
      scope: (req) => ({ tenant: String(req.headers["x-tenant"]) }),
    });
  const get = (path: string, tenant = "acme") =>
    request(scoped()).get(`/audit${path}`).set("x-tenant", tenant);

  it("holds every page, and the paging through them, to the scope", async () => {
    const seen: string[] = [];
    let next: string | null = null;
    do {
      const res = await get(`/api/records?limit=4${next ? `&after=${next}` : ""}`);
      expect(res.status).toBe(200);
      for (const r of res.body.records as Shown[]) expect(r.tenant).toBe("acme");
      seen.push(...(res.body.records as Shown[]).map((r) => r._id.$oid));
      next = res.body.next;
    } while (next !== null);
    expect(seen).toEqual(idsOf(trail.filter((r) => r.tenant === "acme")));
  });

  it("lets parameters narrow the scope", async () => {
    const res = await get("/api/records?actor=bob&tenant=acme");
    expect(res.status).toBe(200);
    const want = trail.filter((r) => r.tenant === "acme" && r.actor.id === "bob");
    expect((res.body.records as Shown[]).map((r) => r._id.$oid)).toEqual(idsOf(want));
  });

  it("answers 403 to a parameter that contradicts the scope, on records and export", async () => {
    for (const path of ["/api/records?tenant=globex", "/api/export?format=csv&tenant=globex"]) {
      const res = await get(path);
      expect(res.status, path).toBe(403);
      expect(res.body).toEqual({ field: "tenant", error: expect.stringMatching(/^tenant: /) });
      expect(res.text).not.toContain("globex");
    }
  });

  it("refuses a cursor made in another scope", async () => {
    const globex = await get("/api/records?limit=2", "globex");
    expect(globex.body.next).toEqual(expect.any(String));
    const res = await get(`/api/records?limit=2&after=${globex.body.next}`, "acme");
    expect(res.status).toBe(400);
    expect(res.body.field).toBe("after");
  });

  it("holds the export to the scope", async () => {
    const res = await get("/api/export?format=ndjson", "globex")
      .buffer(true)
      .parse((r, done) => {
        let text = "";
        r.on("data", (c: Buffer) => {
          text += c.toString("utf8");
        });
        r.on("end", () => done(null, text));
      });
    const lines = (res.body as string)
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as Shown);
    expect(lines.map((r) => r._id.$oid)).toEqual(idsOf(trail.filter((r) => r.tenant === "globex")));
  });

  it("lets a time range narrow a scoped window and not reach outside it", async () => {
    const from = trail[10]?.ts.toISOString() as string;
    const app = viewerApp(express, { reader, authorize: () => true, scope: () => ({ from }) });
    const inside = await request(app).get(
      `/audit/api/records?limit=100&from=${trail[12]?.ts.toISOString()}`,
    );
    expect(inside.status).toBe(200);
    expect(inside.body.records).toHaveLength(18);
    const all = await request(app).get("/audit/api/records?limit=100");
    expect(all.body.records).toHaveLength(20);
    const before = await request(app).get(`/audit/api/records?from=${trail[2]?.ts.toISOString()}`);
    expect(before.status).toBe(403);
    expect(before.body.field).toBe("from");
  });

  it.each([
    ["nothing", () => undefined],
    ["a bad filter", () => ({ tenant: { $ne: null } })],
    ["a rejected promise", async () => Promise.reject(new Error("no session"))],
  ])("fails closed when scope returns %s: the app's error handler, no records", async (_, fn) => {
    const app = viewerApp(express, {
      reader,
      authorize: () => true,
      scope: fn as unknown as () => Record<string, never>,
    });
    for (const path of ["/audit/api/records", "/audit/api/export?format=csv"]) {
      const res = await request(app).get(path);
      expect(res.status, path).toBe(500);
      expect(res.body.error).toBe("app error handler");
      expect(res.text).not.toMatch(/alice|bob|carol/);
    }
  });

  it("keeps a tenant-bound reader's tenant: another asked for is a 400", async () => {
    const bound = createReader({ mongo: testDb.client, database: testDb.name, tenant: "acme" });
    const app = viewerApp(express, { reader: bound, authorize: () => true });
    const mine = await request(app).get("/audit/api/records?limit=100");
    expect((mine.body.records as Shown[]).every((r) => r.tenant === "acme")).toBe(true);
    expect(mine.body.records).toHaveLength(15);
    const other = await request(app).get("/audit/api/records?tenant=globex");
    expect(other.status).toBe(400);
    expect(other.body.field).toBe("tenant");
  });
});

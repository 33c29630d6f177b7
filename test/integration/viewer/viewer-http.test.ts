// The viewer over HTTP on Express 4 and 5, against a real reader on FerretDB: authorize, headers,
// the records API with its paging, the export, and every bad query answered 400, never 500.
import { createServer, get } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditRecord } from "../../../shared/wire/record.js";
import type { Reader } from "../../../sidecar/read/index.js";
import { auditViewer, ConfigError } from "../../../sidecar/viewer/index.js";
import { waitFor } from "../../helpers/services.js";
import { openSampleTrail, type SampleTrailDb, viewerApp } from "../../helpers/viewer-app.js";
import { expressVersions } from "../../http/harness.js";

let fixture: SampleTrailDb;
let reader: Reader;
let trail: AuditRecord[];
beforeAll(async () => {
  fixture = await openSampleTrail(30);
  ({ reader, trail } = fixture);
});
afterAll(() => fixture.dispose());

const newestFirst = () => trail.map((r) => r._id.toHexString()).sort((a, b) => b.localeCompare(a));
const oid = (r: { _id: { $oid: string } }) => r._id.$oid;

describe("auditViewer options", () => {
  it("refuses to be built without authorize: there is no default-open viewer", () => {
    const make = (options: unknown) => () =>
      auditViewer(options as Parameters<typeof auditViewer>[0]);
    expect(make({ reader })).toThrow(ConfigError);
    expect(make({ reader })).toThrow(/authorize is required/);
    expect(make({ reader, authorize: true })).toThrow(/authorize is required/);
    expect(make({ authorize: () => true })).toThrow(/reader/);
    expect(make({ reader, authorize: () => true, scope: {} })).toThrow(/scope/);
    expect(make({ reader, authorize: () => true, open: true })).toThrow(/unknown option "open"/);
    expect(make(undefined)).toThrow(ConfigError);
  });
});

describe.each(expressVersions)("viewer on $name", ({ express }) => {
  const open = () => viewerApp(express, { reader, authorize: () => true });
  const routes = ["/audit/", "/audit/app.js", "/audit/api/records", "/audit/api/export?format=csv"];

  it.each([
    ["false", () => false],
    ["a promise of false", async () => false],
    ["a truthy value that is not true", () => "yes" as unknown as boolean],
  ])("answers 403 on every route when authorize returns %s, and shows no data", async (_, fn) => {
    const app = viewerApp(express, { reader, authorize: fn });
    for (const path of routes) {
      const res = await request(app).get(path);
      expect(res.status, path).toBe(403);
      expect(res.text).not.toMatch(/alice|bob|orders|records|Audit trail/);
      expect(res.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    }
    expect((await request(app).get("/audit/api/records")).body).toEqual({ error: "forbidden" });
  });

  it("lets a throwing authorize reach the app's error handler, and shows no data", async () => {
    const app = viewerApp(express, {
      reader,
      authorize: async () => {
        throw new Error("session store down");
      },
    });
    const res = await request(app).get("/audit/api/records");
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: "app error handler", message: "session store down" });
  });

  it("passes the request to authorize", async () => {
    const app = viewerApp(express, {
      reader,
      authorize: (req) => req.headers["x-role"] === "auditor",
    });
    expect((await request(app).get("/audit/").set("x-role", "auditor")).status).toBe(200);
    expect((await request(app).get("/audit/").set("x-role", "guest")).status).toBe(403);
  });

  it("serves a page whose policy allows only its own script and style", async () => {
    const page = await request(open()).get("/audit/");
    expect(page.status).toBe(200);
    expect(page.type).toBe("text/html");
    const csp = page.headers["content-security-policy"] as string;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe");
    expect(page.text).toContain('<script src="app.js" defer></script>');
    expect(page.text).not.toMatch(/<script>|<style|\sstyle=|\son[a-z]+=/i);
    for (const path of ["/audit/", "/audit/app.js", "/audit/app.css", "/audit/api/records"]) {
      const res = await request(open()).get(path);
      expect(res.headers["x-content-type-options"], path).toBe("nosniff");
      expect(res.headers["cache-control"], path).toBe("no-store");
      expect(res.headers["content-security-policy"], path).toBe(csp);
    }
    expect((await request(open()).get("/audit/app.js")).type).toBe("text/javascript");
  });

  it("sends /audit on to /audit/ with its query, so the page's relative URLs resolve", async () => {
    const res = await request(open()).get("/audit?actor=bob");
    expect(res.status).toBe(308);
    expect(res.headers.location).toBe("./audit/?actor=bob");
  });

  it("pages through every record newest first, each once, with next null at the end", async () => {
    const seen: string[] = [];
    let next: string | null = null;
    do {
      const query: string = `limit=7${next ? `&after=${next}` : ""}`;
      const res = await request(open()).get(`/audit/api/records?${query}`);
      expect(res.status).toBe(200);
      seen.push(...res.body.records.map(oid));
      next = res.body.next;
    } while (next !== null);
    expect(seen).toEqual(newestFirst());
  });

  it("filters by every page parameter", async () => {
    const ask = async (query: string) =>
      (await request(open()).get(`/audit/api/records?limit=100&${query}`)).body.records as {
        actor: { id: string };
        action: string;
        target: { id: string };
        outcome: { status: number };
        ts: { $date: string };
      }[];
    const bob = await ask("actor=bob&action=login");
    expect(bob.length).toBe(
      trail.filter((r) => r.actor.id === "bob" && r.action === "login").length,
    );
    expect(bob.every((r) => r.actor.id === "bob" && r.action === "login")).toBe(true);
    const failed = await ask("status=failed&targetType=order&targetId=1003");
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((r) => r.outcome.status >= 400 && r.target.id === "1003")).toBe(true);
    expect((await ask("status=404")).every((r) => r.outcome.status === 404)).toBe(true);
    const from = trail[10]?.ts.toISOString() as string;
    const to = trail[20]?.ts.toISOString() as string;
    const window = await ask(`from=${from}&to=${to}&order=asc`);
    expect(window.map((r) => Date.parse(r.ts.$date))).toEqual(
      trail.slice(10, 20).map((r) => r.ts.getTime()),
    );
  });

  it.each([
    ["an unknown parameter", "colour=red", "colour"],
    ["a qs-style operator", "actor[$ne]=x", "actor[$ne]"],
    ["an operator as a value", "actor=%24ne", "actor"],
    ["a parameter given twice", "actor=a&actor=b", "actor"],
    ["a status that is not one", "status=abc", "status"],
    ["a time without a zone", "from=yesterday", "from"],
    ["a limit that is not a number", "limit=ten", "limit"],
    ["a huge limit", "limit=1000000000", "limit"],
    ["a forged cursor", "after=bm90LWEtY3Vyc29y", "after"],
    ["a 2,000-character value", `actor=${"a".repeat(2000)}`, "actor"],
    ["an unknown order", "order=random", "order"],
  ])("answers %s with 400 and says which field", async (_, query, field) => {
    const res = await request(open()).get(`/audit/api/records?${query}`);
    expect(res.status).toBe(400);
    expect(res.body.field).toBe(field);
    expect(res.body.error).toMatch(/^.+: .+/);
  });

  it("refuses a cursor made for another filter, and one altered by a character", async () => {
    const first = await request(open()).get("/audit/api/records?limit=2&actor=bob");
    const next = first.body.next as string;
    const other = await request(open()).get(`/audit/api/records?actor=alice&after=${next}`);
    expect(other.status).toBe(400);
    expect(other.body.error).toMatch(/another filter/);
    const altered = next.slice(0, -2) + (next.endsWith("A") ? "B" : "A") + next.slice(-1);
    const bad = await request(open()).get(`/audit/api/records?actor=bob&after=${altered}`);
    expect(bad.status).toBe(400);
  });

  it("refuses a 1 MB value: 400 when the server reads such headers, 431 from Node's default", async () => {
    const huge = `actor=${"a".repeat(1024 * 1024)}`;
    const roomy = createServer({ maxHeaderSize: 4 * 1024 * 1024 }, open());
    const res = await request(roomy).get(`/audit/api/records?${huge}`);
    expect(res.status).toBe(400);
    expect(res.body.field).toBe("query");
    expect((await request(open()).get(`/audit/api/records?${huge}`)).status).toBe(431);
  });

  it("exports the current filter as CSV and NDJSON, as attachments", async () => {
    const csv = await request(open()).get("/audit/api/export?format=csv&actor=carol");
    expect(csv.status).toBe(200);
    expect(csv.type).toBe("text/csv");
    expect(csv.headers["content-disposition"]).toMatch(/^attachment; filename="audit-.+\.csv"$/);
    const lines = csv.text.trimEnd().split("\r\n");
    expect(lines[0]).toMatch(/^time,id,actor,action/);
    const carol = trail.filter((r) => r.actor.id === "carol");
    expect(lines).toHaveLength(carol.length + 1);
    expect(lines.slice(1).every((l) => l.split(",")[2] === "carol")).toBe(true);
    const nd = await request(open())
      .get("/audit/api/export?format=ndjson&status=5xx")
      .buffer(true)
      .parse((res, done) => {
        let text = "";
        res.on("data", (c: Buffer) => {
          text += c.toString("utf8");
        });
        res.on("end", () => done(null, text));
      });
    expect(nd.headers["content-type"]).toMatch(/^application\/x-ndjson/);
    expect(nd.headers["content-disposition"]).toMatch(/\.ndjson"$/);
    const records = (nd.body as string)
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(records.map(oid)).toEqual(
      trail
        .filter((r) => (r.outcome?.status ?? 0) >= 500)
        .map((r) => r._id.toHexString())
        .sort((a, b) => b.localeCompare(a)),
    );
  });

  it.each([
    ["no format", ""],
    ["an unknown format", "format=xlsx"],
    ["a page parameter", "format=csv&limit=5"],
    ["a bad filter", "format=csv&status=9xx"],
  ])("answers an export with %s with 400", async (_, query) => {
    const res = await request(open()).get(`/audit/api/export?${query}`);
    expect(res.status).toBe(400);
    expect(res.headers["content-disposition"]).toBeUndefined();
  });

  it("stops an export when the client goes away", async () => {
    // An export that never ends: only the client's leaving can stop it.
    let body: Readable | undefined;
    const endless: Reader = {
      ...reader,
      export: () => {
        body = Readable.from(
          (function* () {
            for (;;) yield "x,".repeat(1000);
          })(),
        );
        return body;
      },
    };
    const server = viewerApp(express, { reader: endless, authorize: () => true }).listen(
      0,
      "127.0.0.1",
    );
    try {
      await new Promise((resolve) => server.once("listening", resolve));
      const { port } = server.address() as AddressInfo;
      await new Promise<void>((resolve, reject) => {
        const req = get(`http://127.0.0.1:${port}/audit/api/export?format=csv`, (res) => {
          res.once("data", () => {
            req.destroy();
            resolve();
          });
        });
        req.once("error", (err) => (req.destroyed ? undefined : reject(err)));
      });
      await waitFor(
        "the export to be stopped",
        async () => body?.destroyed,
        (d) => d === true,
      );
      expect(body?.readableEnded).toBe(false);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

// Route templates over many requests of one app, not only its first, and what following them
// does to the request object: the first request of an app takes the slow path, every later one
// the fast path (Express 5).
import { setFlagsFromString } from "node:v8";
import type { Request, Response } from "express";
import request from "supertest";
import { afterEach, describe, expect, it } from "vitest";
import { createCaptureApp, expressVersions, type Harness, harness } from "./harness.js";

describe.each(expressVersions)("route tracking on $name", ({ express, major }) => {
  let h: Harness;
  afterEach(async () => {
    await h.audit.close();
    expect(h.errors).toEqual([]);
  });

  it("records the same templates on an app's first request and on every later one", async () => {
    h = harness();
    const app = createCaptureApp(express, h.audit, major);
    const calls: Array<["get" | "post" | "delete", string, string | null]> = [
      ["get", "/shops/7/orders/42", "/shops/:shopId/orders/:id"],
      ["delete", "/shops/1/orders/5", "/shops/:shopId/orders/:id"],
      ["post", "/shops/3/orders", "/shops/:shopId/orders/"],
      ["get", "/etag", "/etag"],
      ["get", "/no/such/route", null],
    ];
    for (let pass = 0; pass < 3; pass++) {
      for (const [method, path] of calls) await request(app)[method](path).send({});
    }
    const docs = await h.records(calls.length * 3);
    const byPath = (path: string) => docs.filter((d) => d.request.path === path);
    for (const [, path, route] of calls) {
      const seen = byPath(path);
      expect(seen, path).toHaveLength(3);
      for (const doc of seen) expect(doc.request.route, path).toBe(route);
    }
    const failed = byPath("/shops/1/orders/5");
    for (const doc of failed) expect(doc.outcome.error).toBe("cannot delete order 5");
  });
});

setFlagsFromString("--allow-natives-syntax");
// V8's own answer to "is this object in fast (hidden class) mode, or a slow dictionary?".
const hasFastProperties = new Function("o", "return %HasFastProperties(o)") as (
  o: object,
) => boolean;

describe.each(expressVersions)(
  "route tracking and the request's shape on $name",
  ({ express, major }) => {
    let h: Harness;
    afterEach(async () => {
      await h.audit.close();
      expect(h.errors).toEqual([]);
    });

    /** Three requests through an app; each answers whether `req` was in fast mode. */
    const shapes = async (audited: boolean): Promise<boolean[]> => {
      const app = express();
      if (audited) app.use(h.audit);
      const shop = express.Router();
      shop.get("/items/:id", (req: Request, res: Response) => {
        res.json({ fast: hasFastProperties(req) });
      });
      app.use("/shops/:shopId", shop);
      const out: boolean[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await request(app).get(`/shops/${i}/items/${i}`).expect(200);
        out.push(res.body.fast);
      }
      return out;
    };

    it("keeps the request object in V8's fast mode from an app's second request on (Express 5)", async () => {
      h = harness();
      const bare = await shapes(false);
      const audited = await shapes(true);
      if (major === 5) {
        expect(bare).toEqual([true, true, true]);
        // The first request finds `baseUrl` already an own property and gets its own accessors.
        expect(audited).toEqual([false, true, true]);
      } else {
        // Express 4 sets `req.baseUrl` before the app's prototype: every request takes the
        // per-request accessors, and the slow path.
        expect(audited).toEqual([false, false, false]);
      }
      const docs = await h.records(3);
      for (const doc of docs) expect(doc.request.route).toBe("/shops/:shopId/items/:id");
    });

    it("follows routers and sub-apps mounted in each other, with params, on every request", async () => {
      h = harness();
      const app = express();
      app.use(h.audit);
      const items = express.Router({ mergeParams: true });
      items.get("/:itemId", (_req: Request, res: Response) => {
        res.json({ ok: true });
      });
      const admin = express();
      admin.get("/users/:userId", (_req: Request, res: Response) => {
        res.json({ ok: true });
      });
      admin.use("/items", items);
      const shop = express.Router();
      shop.use("/items", items);
      shop.get("/", (_req: Request, res: Response) => {
        res.json({ ok: true });
      });
      app.use("/shops/:shopId", shop);
      app.use("/admin/:org", admin);
      app.get("/plain/:x", (_req: Request, res: Response) => {
        res.json({ ok: true });
      });
      const calls: Array<[string, string | null, Record<string, string>]> = [
        ["/shops/7/items/42", "/shops/:shopId/items/:itemId", { shopId: "7", itemId: "42" }],
        ["/admin/acme/users/9", "/admin/:org/users/:userId", { org: "acme", userId: "9" }],
        ["/admin/acme/items/5", "/admin/:org/items/:itemId", { org: "acme", itemId: "5" }],
        ["/shops/8/", "/shops/:shopId/", { shopId: "8" }],
        ["/plain/y", "/plain/:x", { x: "y" }],
        ["/shops/8/nothing/here", null, {}],
      ];
      const passes = 3;
      for (let pass = 0; pass < passes; pass++) {
        for (const [path] of calls) await request(app).get(path);
      }
      const docs = await h.records(calls.length * passes);
      for (const [path, route, params] of calls) {
        const seen = docs.filter((d) => d.request.path === path);
        expect(seen, path).toHaveLength(passes);
        for (const doc of seen) {
          expect(doc.request.route, path).toBe(route);
          if (route !== null) expect(doc.request.params, path).toEqual(params);
        }
      }
    });

    it("leaves an app's own `route` accessor, and apps without auditq, alone", async () => {
      h = harness();
      const app = express();
      // The app's own accessor on its request prototype: auditq must not replace it.
      const own: PropertyDescriptor = {
        configurable: true,
        get() {
          return (this as { _route?: unknown })._route;
        },
        set(value: unknown) {
          (this as { _route?: unknown })._route = value;
        },
      };
      Object.defineProperty(app.request, "route", own);
      app.use(h.audit);
      app.get("/a/:id", (_req: Request, res: Response) => {
        res.json({ ok: true });
      });
      for (let i = 0; i < 2; i++) await request(app).get(`/a/${i}`).expect(200);
      expect(Object.getOwnPropertyDescriptor(app.request, "baseUrl")).toBeUndefined();
      expect(Object.getOwnPropertyDescriptor(app.request, "route")?.get).toBe(own.get);
      const docs = await h.records(2);
      for (const doc of docs) expect(doc.request.route).toBe("/a/:id");
      // Another app of the same Express, without auditq, keeps plain data properties.
      const other = express();
      other.get("/b", (req: Request, res: Response) => {
        res.json({ own: Object.hasOwn(req, "baseUrl") });
      });
      const res = await request(other).get("/b").expect(200);
      expect(res.body.own).toBe(true);
    });
  },
);

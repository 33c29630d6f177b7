// Route templates over many requests of one app, and what following them does to the request
// object: the first request of an app takes the slow path, every later one the fast path.
import { setFlagsFromString } from "node:v8";
import type { Request } from "express";
import request from "supertest";
import { afterEach, describe, expect, it } from "vitest";
import { createCaptureApp, expressVersions, type Harness, harness } from "./harness.js";

setFlagsFromString("--allow-natives-syntax");
// V8's own answer to "is this object in fast (hidden class) mode, or a slow dictionary?".
const hasFastProperties = new Function("o", "return %HasFastProperties(o)") as (
  o: object,
) => boolean;

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

  it("leaves the request object in V8's fast mode from an app's second request on (Express 5)", async () => {
    h = harness();
    const shapes = async (audited: boolean): Promise<boolean[]> => {
      const app = express();
      if (audited) app.use(h.audit);
      const shop = express.Router();
      shop.get("/items/:id", (req: Request, res) => {
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
    const bare = await shapes(false);
    const audited = await shapes(true);
    if (major === 5) {
      expect(bare).toEqual([true, true, true]);
      // The first request finds `baseUrl` already an own property and gets its own accessors.
      expect(audited).toEqual([false, true, true]);
    } else {
      // Express 4 sets `req.baseUrl` before the app's prototype: every request is slow.
      expect(audited).toEqual([false, false, false]);
    }
    const docs = await h.records(3);
    for (const doc of docs) expect(doc.request.route).toBe("/shops/:shopId/items/:id");
  });
});

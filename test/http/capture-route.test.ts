// Route templates over many requests of one app, not only its first.
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

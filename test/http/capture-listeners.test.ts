// One record per response, from the shared end-of-response listener or, on a response that
// cannot take its state (not extensible), from a listener of its own.
import { EventEmitter } from "node:events";
import type { Request, Response } from "express";
import request from "supertest";
import { afterEach, describe, expect, it } from "vitest";
import { expressVersions, type Harness, harness } from "./harness.js";

describe.each(expressVersions)("end of response on $name", ({ express }) => {
  let h: Harness;
  afterEach(async () => {
    await h.audit.close();
    expect(h.errors).toEqual([]);
  });

  it("records a request once although its response emits both finish and close", async () => {
    h = harness();
    const app = express();
    app.use(h.audit);
    app.get("/items/:id", (req: Request, res: Response) => {
      res.json({ id: req.params.id });
    });
    for (let i = 0; i < 3; i++) await request(app).get(`/items/${i}`).expect(200);
    await h.records(3);
    await h.audit.flush();
    expect(h.sink.records.map((d) => d.request.route)).toEqual(Array(3).fill("/items/:id"));
  });
});

describe("end of response on a response that takes no new property", () => {
  it("records it once, through a listener of its own", async () => {
    const h = harness();
    const req = {
      method: "GET",
      url: "/locked",
      originalUrl: "/locked",
      headers: { "user-agent": "test" },
    } as unknown as Request;
    const res = Object.preventExtensions(
      Object.assign(new EventEmitter(), { statusCode: 204, writableFinished: true }),
    ) as unknown as Response;
    let nexts = 0;
    h.audit(req, res, () => nexts++);
    expect(nexts).toBe(1);
    res.emit("finish");
    res.emit("close");
    const [doc] = await h.records(1);
    await h.audit.flush();
    expect(h.sink.records).toHaveLength(1);
    expect(doc?.request.path).toBe("/locked");
    expect(doc?.outcome.status).toBe(204);
    await h.audit.close();
    expect(h.errors).toEqual([]);
  });
});

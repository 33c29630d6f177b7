// The fields capture reads on every request at sites of their own (not read.ts's field()) stay
// guarded: a getter that throws on them costs that field, never the request or its full record.
import { EventEmitter } from "node:events";
import type { Request, Response } from "express";
import { afterEach, describe, expect, it } from "vitest";
import { type Harness, harness } from "./harness.js";

const boom = () => {
  throw new Error("hostile getter");
};

function request(extra: PropertyDescriptorMap = {}): Request {
  const req = {
    method: "GET",
    url: "/own-reads",
    originalUrl: "/own-reads",
    headers: { "user-agent": "test" },
  };
  return Object.defineProperties(req, extra) as unknown as Request;
}

function response(extra: PropertyDescriptorMap = {}): Response {
  const res = Object.assign(new EventEmitter(), { statusCode: 200, writableFinished: true });
  return Object.defineProperties(res, extra) as unknown as Response;
}

describe("capture's own reads of req and res", () => {
  let h: Harness;
  afterEach(async () => {
    await h.audit.close();
  });

  it("records a request whose req.audit getter throws (read to tell another auditq's)", async () => {
    h = harness();
    let kept: unknown;
    const req = request({
      audit: {
        get: boom,
        set(value: unknown) {
          kept = value;
        },
        configurable: true,
      },
    });
    const res = response();
    let nexts = 0;
    h.audit(req, res, () => nexts++);
    expect(nexts).toBe(1);
    expect(kept).toBeDefined();
    res.emit("finish");
    const [doc] = await h.records(1);
    expect(doc?.captureError).toBeUndefined();
    expect(doc?.outcome.status).toBe(200);
    expect(h.errors).toEqual([]);
  });

  it("records a response whose statusCode getter throws, with status 0", async () => {
    h = harness();
    const res = response({ statusCode: { get: boom, configurable: true } });
    h.audit(request(), res, () => undefined);
    res.emit("finish");
    const [doc] = await h.records(1);
    expect(doc?.captureError).toBeUndefined();
    expect(doc?.request.path).toBe("/own-reads");
    expect(doc?.outcome.status).toBe(0);
    expect(h.errors).toEqual([]);
  });

  it("records a response whose writableFinished getter throws as aborted", async () => {
    h = harness();
    const res = response({ writableFinished: { get: boom, configurable: true } });
    h.audit(request(), res, () => undefined);
    res.emit("finish");
    const [doc] = await h.records(1);
    // Unreadable, so not known to be sent in full: aborted (499), as an unreadable field was.
    expect(doc?.captureError).toBeUndefined();
    expect(doc?.outcome).toMatchObject({ status: 499, aborted: true });
    expect(h.errors).toEqual([]);
  });
});

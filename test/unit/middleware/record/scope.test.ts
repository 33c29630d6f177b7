// The scope of a captured request: the actor read from the request until its record is built,
// then the record's, with the request and response let go.
import { ObjectId } from "bson";
import type { Request, Response } from "express";
import { describe, expect, it } from "vitest";
import { RequestScope } from "../../../../middleware/record/scope.js";

describe("RequestScope", () => {
  it("reads the actor from the request until settled, then keeps the record's and lets go", () => {
    const req = { user: { id: "u-1" } } as unknown as Request;
    const calls: unknown[] = [];
    const actorOf = (r: Request) => {
      calls.push(r);
      return (r as unknown as { user: { id: string } }).user.id;
    };
    const id = new ObjectId();
    const scope = new RequestScope(actorOf, () => undefined, req, {} as Response, "req-1", id);
    expect(scope.actor()).toBe("u-1");
    expect(scope.causedBy).toEqual({ requestId: "req-1", id });
    scope.settle({ id: "u-1", type: "user", ip: "10.0.0.1" }, undefined);
    (req as unknown as { user: { id: string } }).user.id = "changed";
    expect(scope.actor()).toEqual({ id: "u-1", type: "user" });
    expect(calls).toHaveLength(1);
    expect(Object.values(scope)).not.toContain(req);
  });

  it("links by request id alone when the request is left out on arrival", () => {
    const scope = new RequestScope(
      () => null,
      () => undefined,
      {} as Request,
      {} as Response,
      "req-2",
      undefined,
    );
    expect(scope.causedBy).toEqual({ requestId: "req-2" });
  });
});

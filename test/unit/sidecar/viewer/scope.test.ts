// A viewer's scope: the page may narrow it, never widen it.
import { describe, expect, it } from "vitest";
import { QueryError } from "../../../../sidecar/read/index.js";
import { checkScope, OutOfScopeError, withinScope } from "../../../../sidecar/viewer/scope.js";

const scope = checkScope({
  tenant: "acme",
  target: { type: "order" },
  from: "2026-01-01T00:00:00Z",
  to: "2026-02-01T00:00:00Z",
});

describe("withinScope", () => {
  it("adds the scope to an empty page filter", () => {
    expect(withinScope({}, scope)).toEqual({
      tenant: "acme",
      target: { type: "order" },
      from: new Date("2026-01-01T00:00:00Z"),
      to: new Date("2026-02-01T00:00:00Z"),
    });
  });

  it("keeps what narrows it: other fields, the same values, a shorter time range", () => {
    expect(
      withinScope(
        { actor: "bob", tenant: "acme", target: { id: "7" }, from: "2026-01-10T00:00:00Z" },
        scope,
      ),
    ).toEqual({
      actor: "bob",
      tenant: "acme",
      target: { type: "order", id: "7" },
      from: new Date("2026-01-10T00:00:00Z"),
      to: new Date("2026-02-01T00:00:00Z"),
    });
  });

  it.each([
    [{ tenant: "globex" }, "tenant"],
    [{ target: { type: "invoice" } }, "targetType"],
    [{ from: "2025-12-31T00:00:00Z" }, "from"],
    [{ to: "2026-03-01T00:00:00Z" }, "to"],
  ])("refuses %j, which would widen it", (page, field) => {
    expect(() => withinScope(page, scope)).toThrow(OutOfScopeError);
    try {
      withinScope(page, scope);
    } catch (err) {
      expect((err as OutOfScopeError).field).toBe(field);
      expect((err as Error).message).not.toContain("globex");
    }
  });

  it("holds the status: another status is out of scope", () => {
    const failed = checkScope({ status: "failed" });
    expect(withinScope({ status: "failed" }, failed)).toEqual({ status: "failed" });
    expect(() => withinScope({ status: 200 }, failed)).toThrow(OutOfScopeError);
  });

  it("leaves a bad page filter to the reader's QueryError (400)", () => {
    expect(() => withinScope({ actor: "$where" }, scope)).toThrow(QueryError);
  });
});

describe("checkScope", () => {
  it("fails closed on nothing and on a filter the reader refuses", () => {
    expect(() => checkScope(undefined)).toThrow(/returned nothing/);
    expect(() => checkScope(null)).toThrow(/returned nothing/);
    expect(() => checkScope({ tenant: { $ne: null } })).toThrow(/returned a bad filter: tenant/);
    expect(() => checkScope({ tenant: { $ne: null } })).not.toThrow(QueryError);
    expect(checkScope({})).toEqual({});
  });
});

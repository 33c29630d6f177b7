// The reader's filter: normalized literals, the tenant binding, and the query built from it.
import { ObjectId } from "bson";
import { describe, expect, it } from "vitest";
import { filterKey, normalizeFilter } from "../../../../sidecar/read/filter.js";
import { buildQuery } from "../../../../sidecar/read/query.js";

describe("normalizeFilter", () => {
  it("keeps literals, reads ISO times, drops undefined fields", () => {
    expect(
      normalizeFilter({
        actor: "a",
        target: { id: "9", type: undefined },
        from: "2026-01-02",
        to: undefined,
      }),
    ).toEqual({ actor: "a", targetId: "9", from: new Date("2026-01-02T00:00:00Z") });
  });

  it("adds the bound tenant, accepts the same one, refuses another", () => {
    expect(normalizeFilter({}, "acme")).toEqual({ tenant: "acme" });
    expect(normalizeFilter({ tenant: "acme" }, "acme")).toEqual({ tenant: "acme" });
    expect(() => normalizeFilter({ tenant: "globex" }, "acme")).toThrow(/bound to another tenant/);
  });

  it("gives the same key to the same filter however it was written", () => {
    const a = filterKey(normalizeFilter({ from: new Date("2026-01-02T00:00:00Z"), actor: "a" }));
    const b = filterKey(normalizeFilter({ actor: "a", from: "2026-01-02T00:00:00.000Z" }));
    expect(a).toBe(b);
  });

  it("never echoes the refused value", () => {
    expect(() => normalizeFilter({ actor: "x".repeat(5000) })).toThrow(
      /^actor: longer than 1024 characters$/,
    );
  });
});

describe("buildQuery", () => {
  it("puts every value under $eq, and a status class as a range", () => {
    const q = buildQuery(
      normalizeFilter({ actor: "a", target: { type: "t" }, status: "4xx" }),
      "desc",
    );
    expect(q.filter).toEqual({
      "actor.id": { $eq: "a" },
      "target.type": { $eq: "t" },
      "outcome.status": { $gte: 400, $lt: 500 },
      _id: { $gte: new ObjectId("000000000000000000000000") },
    });
    expect(q.sort).toEqual({ _id: -1 });
    expect(q.shape).toEqual({
      equality: ["actor.id", "target.type"],
      sort: "_id",
      range: ["outcome.status", "_id"],
    });
  });

  it("bounds _id by the time range (one second of slack below) and the cursor, whichever is tighter", () => {
    const from = new Date("2026-01-01T00:00:10.500Z");
    const to = new Date("2026-01-01T00:00:20Z");
    const q = buildQuery(normalizeFilter({ from, to }), "desc");
    expect(q.filter.ts).toEqual({ $gte: from, $lt: to });
    expect(q.filter._id.$gte.getTimestamp()).toEqual(new Date("2026-01-01T00:00:09Z"));
    expect(q.filter._id.$lt.getTimestamp()).toEqual(new Date("2026-01-01T00:00:20Z"));
    const after = ObjectId.createFromTime(Date.parse("2026-01-01T00:00:15Z") / 1000);
    expect(buildQuery(normalizeFilter({ from, to }), "desc", after).filter._id.$lt).toBe(after);
    const asc = buildQuery(normalizeFilter({ from, to }), "asc", after).filter._id;
    expect(asc.$gt).toBe(after);
    expect(asc.$gte).toBeUndefined();
  });
});

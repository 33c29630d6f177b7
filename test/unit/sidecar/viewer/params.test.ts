// The viewer's URL query → the reader's filter and options, read from the raw URL.
import { describe, expect, it } from "vitest";
import { QueryError } from "../../../../sidecar/read/index.js";
import { exportQuery, MAX_QUERY_CHARS, recordsQuery } from "../../../../sidecar/viewer/params.js";

describe("recordsQuery", () => {
  it("maps every parameter onto the reader's filter and page options", () => {
    const url =
      "/api/records?actor=a&action=login&targetType=order&targetId=7&status=404&from=2026-01-01&to=2026-02-01T00:00:00Z&service=shop&requestId=r1&tenant=t&limit=20&after=c&order=asc";
    expect(recordsQuery(url)).toEqual({
      filter: {
        actor: "a",
        action: "login",
        target: { type: "order", id: "7" },
        status: 404,
        from: "2026-01-01",
        to: "2026-02-01T00:00:00Z",
        service: "shop",
        requestId: "r1",
        tenant: "t",
      },
      options: { limit: 20, after: "c", order: "asc" },
    });
  });

  it("keeps status classes as text, takes one part of a target, and drops empty values", () => {
    expect(recordsQuery("/?status=5xx&targetId=9&actor=&after=").filter).toEqual({
      status: "5xx",
      target: { id: "9" },
    });
    expect(recordsQuery("/").filter).toEqual({});
  });

  it.each([
    ["?colour=red", "colour"],
    ["?actor[$ne]=x", "actor[$ne]"],
    ["?actor=a&actor=b", "actor"],
    ["?limit=-1", "limit"],
    ["?limit=1e3", "limit"],
    ["?order=up", "order"],
    ["?format=csv", "format"],
    [`?actor=${"a".repeat(MAX_QUERY_CHARS)}`, "query"],
  ])("refuses %s, naming %s", (query, field) => {
    expect(() => recordsQuery(`/api/records${query}`)).toThrow(QueryError);
    try {
      recordsQuery(`/api/records${query}`);
    } catch (err) {
      expect((err as QueryError).field).toBe(field);
    }
  });

  it("reads the raw URL: the app's query parser has no say", () => {
    expect(recordsQuery("/?actor=%7B%22%24ne%22%3Anull%7D").filter).toEqual({
      actor: '{"$ne":null}',
    });
  });
});

describe("exportQuery", () => {
  it("takes a format and an order, and no page options", () => {
    expect(exportQuery("/api/export?format=ndjson&actor=a&order=asc")).toEqual({
      filter: { actor: "a" },
      format: "ndjson",
      order: "asc",
    });
    expect(() => exportQuery("/api/export?format=csv&limit=5")).toThrow(/limit: unknown/);
    expect(() => exportQuery("/api/export")).toThrow(/format: expected "csv" or "ndjson"/);
  });
});

// The page cursor: round trip, and refusal of every cursor this codec did not make for the query.
import { ObjectId } from "bson";
import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor } from "../../../../sidecar/read/cursor.js";
import { filterKey, normalizeFilter } from "../../../../sidecar/read/filter.js";

const id = new ObjectId("6b09eab43961488f80b2e9ac");
const key = filterKey(normalizeFilter({ actor: "alice" }, "acme"));

describe("cursor", () => {
  it("round-trips the position and order, as base64url of at most 100 characters", () => {
    const cursor = encodeCursor(id, "asc", key);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]{60,100}$/);
    const position = decodeCursor(cursor, key);
    expect(position.after.equals(id)).toBe(true);
    expect(position.order).toBe("asc");
  });

  it("refuses one made for another filter or tenant", () => {
    const cursor = encodeCursor(id, "desc", key);
    expect(() =>
      decodeCursor(cursor, filterKey(normalizeFilter({ actor: "bob" }, "acme"))),
    ).toThrow(/another filter or tenant/);
    expect(() =>
      decodeCursor(cursor, filterKey(normalizeFilter({ actor: "alice" }, "globex"))),
    ).toThrow(/another filter or tenant/);
    expect(() => decodeCursor(cursor, filterKey(normalizeFilter({ actor: "alice" })))).toThrow(
      /another filter or tenant/,
    );
  });

  it("refuses every single-character change", () => {
    const cursor = encodeCursor(id, "desc", key);
    for (let i = 0; i < cursor.length; i++) {
      const c = cursor[i] === "A" ? "B" : "A";
      const altered = cursor.slice(0, i) + c + cursor.slice(i + 1);
      expect(() => decodeCursor(altered, key), `at ${i}`).toThrow(/^after: /);
    }
  });

  it.each([
    ["not a string", 42],
    ["empty", ""],
    ["too long", "A".repeat(201)],
    ["not base64url", "abc+/="],
    ["not JSON", Buffer.from("{x").toString("base64url")],
    [
      "another version",
      Buffer.from('[2,"desc","6b09eab43961488f80b2e9ac","x"]').toString("base64url"),
    ],
    ["an operator for an id", Buffer.from('[1,"desc",{"$gt":""},"x"]').toString("base64url")],
    [
      "another order word",
      Buffer.from('[1,"up","6b09eab43961488f80b2e9ac","x"]').toString("base64url"),
    ],
  ])("refuses %s", (_name, cursor) => {
    expect(() => decodeCursor(cursor, key)).toThrow(/^after: /);
  });
});

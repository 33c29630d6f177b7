import { ObjectId } from "bson";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../../shared/util/errors.js";
import {
  checkHoldMatch,
  holdClauses,
  MAX_HOLDS,
} from "../../../../sidecar/retention/hold-filter.js";

describe("legal hold filters", () => {
  it("keeps the fields given, as plain strings", () => {
    expect(checkHoldMatch({ actor: "u1", tenant: "t", targetType: undefined })).toEqual({
      actor: "u1",
      tenant: "t",
    });
    // A string that looks like an operator is a literal in an equality: allowed.
    expect(checkHoldMatch({ targetId: "$ne" })).toEqual({ targetId: "$ne" });
  });

  it("refuses operators, other types, unknown fields and a hold on nothing", () => {
    expect(() => checkHoldMatch({ actor: { $ne: "x" } })).toThrow(ConfigError);
    expect(() => checkHoldMatch({ actor: 42 })).toThrow(/actor: expected a string/);
    expect(() => checkHoldMatch({ actor: "" })).toThrow(/actor: expected a string/);
    expect(() => checkHoldMatch({ "actor.id": "u1" })).toThrow(/unknown field "actor.id"/);
    expect(() => checkHoldMatch({ $where: "1" })).toThrow(/unknown field/);
    expect(() => checkHoldMatch({})).toThrow(/at least one/);
  });

  it("turns stored holds into $nor clauses on the records' paths", () => {
    const clauses = holdClauses([
      { _id: new ObjectId(), actor: "u1", reason: "r", createdAt: new Date(), createdBy: "a" },
      { _id: new ObjectId(), targetType: "order", targetId: "o1", tenant: "t", reason: "r" },
    ]);
    expect(clauses).toEqual([
      { "actor.id": "u1" },
      { "target.type": "order", "target.id": "o1", tenant: "t" },
    ]);
  });

  it("fails closed on a stored hold that is not valid, and on too many", () => {
    const bad = { _id: "hand-made", actor: { $exists: true }, reason: "r" };
    expect(() => holdClauses([bad])).toThrow(/invalid legal hold hand-made.*deletes nothing/);
    expect(() => holdClauses([{ _id: 1, reason: "nothing held" }])).toThrow(/invalid legal hold/);
    const many = Array.from({ length: MAX_HOLDS + 1 }, (_, i) => ({ actor: `u${i}` }));
    expect(() => holdClauses(many)).toThrow(/more than 1000 legal holds/);
  });
});

// Canonical bytes: the same for a document as inserted and as read back, whatever its key order.
import { BSON, Double, Int32, Long, ObjectId } from "bson";
import { describe, expect, it } from "vitest";
import { canonicalBytes, documentHash } from "../../../../sidecar/verify/canonical.js";
import { readBack } from "../../../helpers/memory-trail.js";

const doc = () => ({
  _id: new ObjectId("6b17081393929254587b2d27"),
  ts: new Date(1_765_000_000_123),
  n: 7,
  x: 2.5,
  big: 2 ** 40,
  l: Long.fromNumber(2 ** 60),
  nested: { b: [1, "s", null, true, { q: new Date(0) }], a: {} },
});

describe("canonical bytes", () => {
  it("hash a document as inserted and as read back with EXACT_READ alike", () => {
    expect(documentHash(readBack(doc()))).toEqual(documentHash(doc()));
  });

  it("do not depend on key order, at any depth", () => {
    const d = doc();
    const reordered = {
      nested: { a: {}, b: d.nested.b },
      l: d.l,
      big: d.big,
      x: d.x,
      n: d.n,
      ts: d.ts,
      _id: d._id,
    };
    expect(Buffer.from(canonicalBytes(reordered))).toEqual(Buffer.from(canonicalBytes(d)));
  });

  it("tell apart an int32, a double and a string of the same value", () => {
    const hashes = [7, new Double(7), "7", new Int32(8)].map((n) =>
      documentHash({ ...doc(), n }).toString("hex"),
    );
    expect(new Set(hashes).size).toBe(4);
  });

  it("write -0 as 0, as FerretDB stores it", () => {
    expect(documentHash({ v: -0 })).toEqual(documentHash({ v: 0 }));
    expect(documentHash({ v: new Double(-0) })).toEqual(documentHash({ v: new Double(0) }));
    expect(documentHash({ v: new Double(-0) })).not.toEqual(documentHash({ v: new Int32(0) }));
  });

  it("are the document's BSON with sorted keys", () => {
    expect(Buffer.from(canonicalBytes({ b: 1, a: { d: 2, c: 3 } }))).toEqual(
      Buffer.from(BSON.serialize({ a: { c: 3, d: 2 }, b: 1 })),
    );
  });
});

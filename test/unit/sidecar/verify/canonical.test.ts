// Canonical bytes: the same for a document as inserted and as read back, whatever its key order.
import {
  Binary,
  BSON,
  BSONRegExp,
  type Document,
  Double,
  Int32,
  Long,
  ObjectId,
  Timestamp,
} from "bson";
import { describe, expect, it } from "vitest";
import { realisticRecord } from "../../../../bench/realistic-record.js";
import {
  canonicalBytes,
  documentHash,
  referenceCanonicalBytes,
} from "../../../../sidecar/verify/canonical.js";
import { writeCanonical } from "../../../../sidecar/verify/canonical-writer.js";
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

  it("write -0 as the double 0, as FerretDB stores it", () => {
    expect(documentHash({ v: -0 })).toEqual(documentHash({ v: new Double(0) }));
    expect(documentHash({ v: new Double(-0) })).toEqual(documentHash({ v: new Double(0) }));
    expect(documentHash({ v: -0 })).not.toEqual(documentHash({ v: 0 }));
  });

  it("write undefined as null, as the driver stores it", () => {
    expect(documentHash({ v: undefined, a: [undefined] })).toEqual(
      documentHash({ v: null, a: [null] }),
    );
  });

  it("are written by the fast path exactly as bson's serializer writes the sorted document", () => {
    const samples: Document[] = [
      doc(),
      {
        s: "é☃𝄞",
        k: { "10": 1, "2": 2, b: true, a: false },
        bin: new Binary(Buffer.from("hi"), 4),
      },
      {
        i: new Int32(-5),
        d: new Double(1.5),
        neg: -0,
        u: undefined,
        l: Long.fromNumber(-3),
        arr: [[], {}, [1, [2]]],
      },
      { dates: [new Date(-1), new Date(-5e12), new Date(8.64e15), new Date(2 ** 31 + 5)] },
      {
        big: -(2 ** 31) - 1,
        edge: 2 ** 31 - 1,
        frac: 0.1,
        inf: Number.POSITIVE_INFINITY,
        nan: Number.NaN,
      },
      ...Array.from({ length: 50 }, (_, i) => realisticRecord(i) as Document),
    ];
    for (const sample of samples) {
      expect(writeCanonical(sample), JSON.stringify(Object.keys(sample))).toBeDefined();
      expect(Buffer.from(canonicalBytes(sample))).toEqual(
        Buffer.from(referenceCanonicalBytes(sample)),
      );
    }
  });

  it("falls back to bson's serializer for other types", () => {
    const odd = { re: new BSONRegExp("a+", "i"), ts: new Timestamp({ t: 1, i: 2 }), big: 5n };
    expect(writeCanonical(odd)).toBeUndefined();
    expect(Buffer.from(canonicalBytes(odd))).toEqual(Buffer.from(referenceCanonicalBytes(odd)));
  });

  it("are the document's BSON with sorted keys", () => {
    expect(Buffer.from(canonicalBytes({ b: 1, a: { d: 2, c: 3 } }))).toEqual(
      Buffer.from(BSON.serialize({ a: { c: 3, d: 2 }, b: 1 })),
    );
  });
});

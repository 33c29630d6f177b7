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

  it("stay byte for byte what earlier versions wrote, so stored digests still verify", () => {
    // Pinned from the code that wrote the first digests: a change here breaks every digest stored.
    const pinned = (): Document => ({
      v: 2,
      ts: new Date(1_765_000_000_123),
      _id: new ObjectId("6b17081393929254587b2d27"),
      actor: { type: "user", id: "user-42", ip: "10.0.0.1" },
      request: {
        route: "/orders/:id",
        method: "POST",
        query: { "10": "x", "2": "y", b: "", a: "é☃𝄞" },
        body: {
          amount: 12.5,
          note: undefined,
          neg: -0,
          big: 2 ** 40,
          list: [1, "s", null, true, { z: 1, y: new Date(-1) }],
        },
      },
      outcome: { status: 201, durationMs: 11.88 },
      typed: {
        i: new Int32(-5),
        d: new Double(7),
        l: Long.fromNumber(2 ** 60),
        bin: new Binary(Buffer.from("hi"), 4),
      },
      seq: { stream: "AAAAAAAAAAAAAAAAAAAAAA", n: 1042 },
    });
    expect(Buffer.from(canonicalBytes(pinned())).toString("hex")).toBe(PINNED_HEX);
    expect(Buffer.from(referenceCanonicalBytes(pinned())).toString("hex")).toBe(PINNED_HEX);
    expect(documentHash(pinned()).toString("hex")).toBe(
      "7660d473b7d640c1b251086719dbf9ef94f46b54777988463bb21bff5aefac84",
    );
  });

  it("are the document's BSON with sorted keys", () => {
    expect(Buffer.from(canonicalBytes({ b: 1, a: { d: 2, c: 3 } }))).toEqual(
      Buffer.from(BSON.serialize({ a: { c: 3, d: 2 }, b: 1 })),
    );
  });
});

const PINNED_HEX =
  "e1010000075f6964006b17081393929254587b2d27036163746f7200350000000269640008000000757365722d343200026970000900000031302e302e302e310002747970650005000000757365720000036f7574636f6d650025000000016475726174696f6e4d7300c3f5285c8fc227401073746174757300c900000000037265717565737400dc00000003626f6479007100000001616d6f756e7400000000000000294001626967000000000000007042046c6973740036000000103000010000000231000200000073000a32000833000103340017000000097900ffffffffffffffff107a00010000000000016e65670000000000000000000a6e6f74650000026d6574686f640005000000504f5354000371756572790031000000023130000200000078000232000200000079000261000a000000c3a9e29883f09d849e0002620001000000000002726f757465000c0000002f6f72646572732f3a6964000003736571002f000000106e00120400000273747265616d0017000000414141414141414141414141414141414141414141410000097473007bb232f29a010000037479706564002e0000000562696e00020000000468690164000000000000001c40106900fbffffff126c000000000000000010001076000200000000";

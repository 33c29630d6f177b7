// A message's digests in the packed layout: what the sidecar builds is what the verifier reads
// back, entry for entry, after a BSON round trip.
import { randomBytes } from "node:crypto";
import { ObjectId } from "bson";
import { describe, expect, it } from "vitest";
import {
  messageDigests,
  PACKED_LAYOUT,
  type StoredEntry,
} from "../../../../sidecar/verify/digest.js";
import { digestRun, malformed } from "../../../../sidecar/verify/entries.js";
import { readBack } from "../../../helpers/memory-trail.js";

const entry = (stream: string | null, n: number): StoredEntry => ({
  id: new ObjectId(),
  stream,
  n,
  hash: randomBytes(32),
});

describe("messageDigests (packed layout)", () => {
  it("packs ids and hashes into one Binary each and n into ranges", () => {
    const entries = [3, 1, 2, 4, 7].map((n) => entry("S", n));
    const [digest] = messageDigests(entries, undefined);
    expect(digest).toMatchObject({ v: PACKED_LAYOUT, stream: "S", nMin: 1, n: [1, 4, 7, 7] });
    expect(digest?.ids.position).toBe(12 * 5);
    expect(digest?.hashes.position).toBe(32 * 5);
  });

  it("reads back, after a BSON round trip, the entries it was built from, in order", () => {
    const streamed = [5, 2, 3, 3, 9, 4].map((n) => entry("S", n));
    const loose = [entry(null, 0), entry(null, 0), entry(null, 0)];
    const digests = messageDigests([...streamed, ...loose], "producer-signature");
    expect(digests).toHaveLength(2);
    const read = digests.map((d) => readBack(d));
    for (const doc of read) {
      expect(Number(doc.v)).toBe(PACKED_LAYOUT);
      expect(malformed(doc)).toBeUndefined();
    }
    const plain = (e: { id: ObjectId; stream: string | null; n: number; hash: Uint8Array }) => ({
      id: e.id.toHexString(),
      stream: e.stream,
      n: e.n,
      hash: Buffer.from(e.hash).toString("hex"),
    });
    const sortedStream = [...streamed].sort((a, b) => a.n - b.n);
    const sortedLoose = [...loose].sort((a, b) => Buffer.compare(a.id.id, b.id.id));
    const [s, l] = read[0]?.stream === "S" ? read : [read[1], read[0]];
    expect(digestRun(s as never, undefined).entries.map(plain)).toEqual(sortedStream.map(plain));
    expect(digestRun(l as never, undefined).entries.map(plain)).toEqual(sortedLoose.map(plain));
    expect((s as { idMin: ObjectId }).idMin.toHexString()).toBe(
      [...streamed].sort((a, b) => Buffer.compare(a.id.id, b.id.id))[0]?.id.toHexString(),
    );
  });
});

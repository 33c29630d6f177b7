// A digest document read back as entries (one per record it names), in either layout (packed,
// or the lists of digests written before it), and the orders the verifier merges them in: by
// stream and `n`, or by `_id` for records without `seq`.
import type { KeyObject } from "node:crypto";
import { type Binary, type Document, ObjectId } from "bson";
import { isBsonType } from "./canonical.js";
import { digestHash, digestSignatureValid, PACKED_LAYOUT } from "./digest.js";
import type { EntryRun } from "./merge.js";
import { fromRanges } from "./n-ranges.js";

/** One record as a digest names it. */
export interface DigestEntry {
  id: ObjectId;
  stream: string | null;
  n: number;
  hash: Uint8Array;
}

/** A digest's entries once its shape is checked, or why it is malformed. */
type Shape = string | (() => DigestEntry[]);

/** The digest's shape, in either layout: packed (`v` 2) or lists (no `v`, before it). */
function shapeOf(doc: Document): Shape {
  if (doc.v === undefined) return listShape(doc);
  if (isBsonNumber(doc.v) && Number(doc.v) === PACKED_LAYOUT) return packedShape(doc);
  return `unknown layout v: ${String(doc.v)}`;
}

/** The layout before `v` 2: one ObjectId, one Binary and one `n` per entry. */
function listShape(doc: Document): Shape {
  const { ids, hashes, n, stream } = doc;
  if (!Array.isArray(ids) || !Array.isArray(hashes) || ids.length !== hashes.length) {
    return "ids and hashes are not two lists of one length";
  }
  if (
    !ids.every((id) => isBsonType(id, "ObjectId")) ||
    !hashes.every((h) => isBsonType(h, "Binary"))
  ) {
    return "ids are not ObjectIds or hashes not binary";
  }
  if (
    stream !== null &&
    (typeof stream !== "string" || !Array.isArray(n) || n.length !== ids.length)
  ) {
    return "a stream's digest without one n per id";
  }
  return () => {
    const entries: DigestEntry[] = new Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      entries[i] = {
        id: ids[i] as ObjectId,
        stream,
        n: n === undefined ? 0 : Number(n[i]),
        hash: (hashes[i] as Binary).buffer,
      };
    }
    return entries;
  };
}

/** The packed layout: `ids` and `hashes` one Binary each, `n` as ranges (n-ranges.ts). */
function packedShape(doc: Document): Shape {
  const { stream } = doc;
  const ids = binaryBytes(doc.ids);
  const hashes = binaryBytes(doc.hashes);
  if (ids === undefined || hashes === undefined) return "ids or hashes are not binary";
  if (ids.length % 12 !== 0 || hashes.length % 32 !== 0) {
    return "ids are not 12 bytes each or hashes not 32 bytes each";
  }
  const count = ids.length / 12;
  if (hashes.length / 32 !== count) return "ids and hashes are not of one count";
  let ns: number[] | undefined;
  if (stream !== null) {
    if (typeof stream !== "string") return "a stream's digest without one n per id";
    const parsed = fromRanges(doc.n, count);
    if (typeof parsed === "string") return `a stream's digest whose ${parsed}`;
    ns = parsed;
  }
  return () => {
    const entries: DigestEntry[] = new Array(count);
    for (let i = 0; i < count; i++) {
      entries[i] = {
        id: new ObjectId(ids.subarray(12 * i, 12 * i + 12)),
        stream,
        n: ns === undefined ? 0 : (ns[i] as number),
        hash: hashes.subarray(32 * i, 32 * i + 32),
      };
    }
    return entries;
  };
}

/** A Binary's bytes, or undefined for anything else. */
function binaryBytes(value: unknown): Uint8Array | undefined {
  if (!isBsonType(value, "Binary")) return undefined;
  const binary = value as Binary;
  return binary.buffer.subarray(0, binary.position);
}

function isBsonNumber(value: unknown): boolean {
  return typeof value === "number" || isBsonType(value, "Int32") || isBsonType(value, "Double");
}

/** Why a digest document is not a well-formed digest; undefined when it is. */
export function malformed(doc: Document): string | undefined {
  const shape = shapeOf(doc);
  return typeof shape === "string" ? shape : undefined;
}

/**
 * The digest's entries, or none when it cannot be trusted: malformed, or (with `publicKey`)
 * without a valid signature. The chain check reports those; here their records count as
 * accounted for by no digest.
 */
export function digestRun(doc: Document, publicKey: KeyObject | undefined): EntryRun<DigestEntry> {
  const shape = shapeOf(doc);
  if (typeof shape === "string") return { entries: [] };
  if (publicKey && !digestSignatureValid(digestHash(doc), doc.sig, publicKey))
    return { entries: [] };
  return { entries: shape() };
}

/** Order of a stream's entries: by stream id, then `n`. */
export function byStreamN(a: DigestEntry, b: DigestEntry): number {
  if (a.stream !== b.stream) return (a.stream as string) < (b.stream as string) ? -1 : 1;
  return a.n - b.n;
}

/** Order of entries without a stream: by `_id`. */
export function byId(a: DigestEntry, b: DigestEntry): number {
  return Buffer.compare(a.id.id, b.id.id);
}

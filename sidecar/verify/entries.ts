// A digest document read back as entries (one per record it names), and the orders the
// verifier merges them in: by stream and `n`, or by `_id` for records without `seq`.
import type { KeyObject } from "node:crypto";
import type { Binary, Document, ObjectId } from "bson";
import { isBsonType } from "./canonical.js";
import { digestHash, digestSignatureValid } from "./digest.js";
import type { EntryRun } from "./merge.js";

/** One record as a digest names it. */
export interface DigestEntry {
  id: ObjectId;
  stream: string | null;
  n: number;
  hash: Uint8Array;
}

/** Why a digest document is not a well-formed digest; undefined when it is. */
export function malformed(doc: Document): string | undefined {
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
  return undefined;
}

/**
 * The digest's entries, or none when it cannot be trusted: malformed, or (with `publicKey`)
 * without a valid signature. The chain check reports those; here their records count as
 * accounted for by no digest.
 */
export function digestRun(doc: Document, publicKey: KeyObject | undefined): EntryRun<DigestEntry> {
  if (malformed(doc) !== undefined) return { entries: [] };
  if (publicKey && !digestSignatureValid(digestHash(doc), doc.sig, publicKey))
    return { entries: [] };
  const ids = doc.ids as ObjectId[];
  const hashes = doc.hashes as Binary[];
  const ns = doc.n as unknown[] | undefined;
  const stream = doc.stream as string | null;
  const entries: DigestEntry[] = new Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    entries[i] = {
      id: ids[i] as ObjectId,
      stream,
      n: ns === undefined ? 0 : Number(ns[i]),
      hash: (hashes[i] as Binary).buffer,
    };
  }
  return { entries };
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

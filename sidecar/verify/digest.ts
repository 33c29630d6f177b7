// The digest documents of `<collection>_digests`: what the sidecar stored of one message (per
// producer stream in it), chained per sidecar and optionally signed with Ed25519 (docs/proof.md).
import { hash, type KeyObject, sign, verify } from "node:crypto";
import { Binary, type Document, type ObjectId } from "bson";
import { canonicalBytes, isBsonType } from "./canonical.js";
import { toRanges } from "./n-ranges.js";
import { writeObjectId } from "./object-id.js";

/** What the sidecar stored of one record: its `_id`, its place in its stream, its hash. */
export interface StoredEntry {
  id: ObjectId;
  /** `seq.stream`, or null for a record without `seq` (a producer before version 2). */
  stream: string | null;
  /** `seq.n`, or 0 without `seq`. */
  n: number;
  /** `documentHash` of the record as inserted. */
  hash: Buffer;
}

/** `v` of a digest document in the packed layout (ids, hashes and `n` each one field). */
export const PACKED_LAYOUT = 2;

/**
 * One digest document, in the packed layout. Entries are sorted by `n` (a stream) or by `_id` (no
 * stream). Digests written before it have no `v` and hold lists: `ids` an ObjectId per entry,
 * `hashes` a Binary per entry, `n` a number per entry (entries.ts reads both).
 */
export interface DigestDoc {
  /** Derived from the entries' `_id`s, so that a redelivered message cannot add a second digest. */
  _id: string;
  v: typeof PACKED_LAYOUT;
  stream: string | null;
  /** Smallest `n` (digests of a stream sort by it); absent without a stream. */
  nMin?: number;
  /** Smallest record `_id` (digests without a stream sort by it; time ranges select by it). */
  idMin: ObjectId;
  /** Each entry's `_id`, 12 bytes each, in entry order. */
  ids: Binary;
  /** `seq.n` of the entries as ranges (n-ranges.ts); absent without a stream. */
  n?: number[];
  /** SHA-256 of each entry's canonical bytes (canonical.ts), 32 bytes each, in entry order. */
  hashes: Binary;
  /** The message's `auditq-signature` attribute, when the producer signs its messages. */
  producerSig?: string;
  /** The sidecar instance that wrote it: a random id per start; its digests form one chain. */
  writer: string;
  /** Its place in the writer's chain: 1, 2, 3, … */
  k: number;
  /** `digestHash` of the writer's digest k - 1; null for k = 1. */
  prev: Binary | null;
  at: Date;
  /** Ed25519 signature of `digestHash`, when the sidecar has a `digestSigningKey`. */
  sig?: Binary;
}

/** A digest before its place in a chain is known. */
export type UnchainedDigest = Omit<DigestDoc, "writer" | "k" | "prev" | "at" | "sig">;

const byN = (a: StoredEntry, b: StoredEntry) => a.n - b.n;
const byId = (a: StoredEntry, b: StoredEntry) => Buffer.compare(a.id.id, b.id.id);

/**
 * The digests of one message's stored records: one per stream among them (a message holds one
 * producer's records, so one in practice), and one for records without `seq`.
 */
export function messageDigests(
  entries: readonly StoredEntry[],
  producerSig: string | undefined,
): UnchainedDigest[] {
  const groups = new Map<string | null, StoredEntry[]>();
  for (const e of entries) {
    const group = groups.get(e.stream);
    if (group) group.push(e);
    else groups.set(e.stream, [e]);
  }
  const out: UnchainedDigest[] = [];
  for (const [stream, group] of groups) {
    group.sort(stream === null ? byId : byN);
    // The ids' bytes are the `ids` field, and the `_id` hashes them; the smallest is `idMin`.
    const ids = Buffer.allocUnsafe(12 * group.length);
    const hashes = Buffer.allocUnsafe(32 * group.length);
    let min = 0;
    for (let i = 0; i < group.length; i++) {
      const entry = group[i] as StoredEntry;
      writeObjectId(entry.id, ids, 12 * i);
      hashes.set(entry.hash, 32 * i);
      if (i > 0 && ids.compare(ids, 12 * min, 12 * min + 12, 12 * i, 12 * i + 12) < 0) min = i;
    }
    const digest: UnchainedDigest = {
      _id: hash("sha256", ids, "base64url").slice(0, 32),
      v: PACKED_LAYOUT,
      stream,
      idMin: (group[min] as StoredEntry).id,
      ids: new Binary(ids),
      hashes: new Binary(hashes),
    };
    if (stream !== null) {
      digest.nMin = (group[0] as StoredEntry).n;
      digest.n = toRanges(group.map((e) => e.n));
    }
    if (producerSig !== undefined) digest.producerSig = producerSig;
    out.push(digest);
  }
  return out;
}

/** SHA-256 of a digest's canonical bytes without its `sig`: what `prev` and `sig` cover. */
export function digestHash(digest: Document): Buffer {
  const { sig: _sig, ...rest } = digest;
  return hash("sha256", canonicalBytes(rest), "buffer");
}

/** The last digest of a chain: its `k` (0 before the first) and `digestHash` (null before the first). */
export interface ChainHead {
  k: number;
  hash: Buffer | null;
}

/**
 * `digests` given their places in `writer`'s chain after `head`: `k` counting on, `prev` the
 * hash of the one before, and a signature when there is a `key`.
 */
export function chainDigests(
  digests: readonly UnchainedDigest[],
  head: ChainHead,
  writer: string,
  key: KeyObject | undefined,
  at = new Date(),
): DigestDoc[] {
  let { k, hash } = head;
  return digests.map((u) => {
    k++;
    const doc: DigestDoc = { ...u, writer, k, prev: hash === null ? null : new Binary(hash), at };
    hash = digestHash(doc);
    if (key) doc.sig = signDigest(hash, key);
    return doc;
  });
}

/** Ed25519 signature of the digest's hash. */
function signDigest(hash: Buffer, key: KeyObject): Binary {
  return new Binary(sign(null, hash, key));
}

/** Whether `sig` is a valid Ed25519 signature of `hash` under `publicKey`. */
export function digestSignatureValid(hash: Buffer, sig: unknown, publicKey: KeyObject): boolean {
  if (!isBsonType(sig, "Binary")) return false;
  return verify(null, hash, publicKey, (sig as Binary).buffer);
}

/** The collection of the digests of the records in `collection`. */
export function digestCollectionName(collection: string): string {
  return `${collection}_digests`;
}

// An audit trail in memory, as `auditq verify` reads it from MongoDB: records, digests chained
// as a sidecar writes them (or wrote them, in the list layout), stream documents and a retention
// cut-off, every document through a BSON round trip read with EXACT_READ, and served sorted as
// VerifySources promises.
import type { KeyObject } from "node:crypto";
import { BSON, type Document, type ObjectId } from "bson";
import { documentHash, EXACT_READ } from "../../sidecar/verify/canonical.js";
import {
  type ChainHead,
  chainDigests,
  type DigestDoc,
  digestHash,
  messageDigests,
  type StoredEntry,
  type UnchainedDigest,
} from "../../sidecar/verify/digest.js";
import type { VerifySources } from "../../sidecar/verify/verify.js";
import { listLayout } from "./list-digest.js";

/** What MongoDB would return for `doc`: its BSON read back with every type as stored. */
export function readBack(doc: Document): Document {
  return BSON.deserialize(BSON.serialize(doc), EXACT_READ);
}

const cmp = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);
const idCmp = (a: ObjectId, b: ObjectId) => Buffer.compare(a.id, b.id);
/** Has a `seq` the index serves: a string stream and a number (any BSON number type). */
const hasSeq = (d: Document) =>
  typeof d.seq?.stream === "string" && d.seq?.n !== undefined && !Number.isNaN(Number(d.seq.n));

export class MemoryTrail {
  records: Document[] = [];
  digests: Document[] = [];
  streams: Document[] = [];
  cutoff: ObjectId | undefined;
  private head: ChainHead = { k: 0, hash: null };

  constructor(
    private readonly key?: KeyObject,
    private readonly writer = "memory-writer",
  ) {}

  /**
   * Stores one message's records and writes its digests, as the sidecar does; in the list
   * layout as sidecars before the packed one (`v` 2) wrote them, with `layout` "lists".
   */
  store(message: readonly Document[], layout: "packed" | "lists" = "packed"): void {
    const entries: StoredEntry[] = message.map((doc) => ({
      id: doc._id as ObjectId,
      stream: typeof doc.seq?.stream === "string" ? doc.seq.stream : null,
      n: typeof doc.seq?.n === "number" ? doc.seq.n : 0,
      hash: documentHash(doc),
    }));
    const digests = messageDigests(entries, undefined);
    const docs: DigestDoc[] = chainDigests(
      layout === "packed" ? digests : (digests.map(listLayout) as unknown as UnchainedDigest[]),
      this.head,
      this.writer,
      this.key,
    );
    const last = docs[docs.length - 1];
    if (last) this.head = { k: last.k, hash: digestHash(last) };
    for (const doc of message) this.records.push(readBack(doc));
    for (const d of docs) this.digests.push(readBack(d));
  }

  /** The sources `verifyTrail` reads, sorted as MongoDB's indexes would give them. */
  sources(): VerifySources {
    const iterate = (docs: Document[]) =>
      (async function* () {
        yield* docs;
      })();
    return {
      chainDigests: () =>
        iterate(
          [...this.digests].sort((a, b) => cmp(a.writer, b.writer) || Number(a.k) - Number(b.k)),
        ),
      streamDigests: () =>
        iterate(
          this.digests
            .filter((d) => typeof d.stream === "string")
            .sort((a, b) => cmp(a.stream, b.stream) || Number(a.nMin) - Number(b.nMin)),
        ),
      looseDigests: () =>
        iterate(
          this.digests.filter((d) => d.stream === null).sort((a, b) => idCmp(a.idMin, b.idMin)),
        ),
      streamRecords: () =>
        iterate(
          this.records
            .filter(hasSeq)
            .sort((a, b) => cmp(a.seq.stream, b.seq.stream) || Number(a.seq.n) - Number(b.seq.n)),
        ),
      looseRecords: () =>
        iterate(this.records.filter((d) => !hasSeq(d)).sort((a, b) => idCmp(a._id, b._id))),
      streams: () => iterate([...this.streams].sort((a, b) => cmp(a._id, b._id))),
      cutoff: async () => this.cutoff,
    };
  }
}

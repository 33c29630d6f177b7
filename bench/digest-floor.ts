// What any per-record digest costs at least, on the documents the sidecar inserts: one encoding
// of each record to bytes (auditq's canonical writer; bson's serializer, which the driver uses,
// for comparison) and one SHA-256 call over them. The driver's own bytes are not exposed to the
// sidecar, so the encoding cannot be shared with the insert. bench/digest.ts prints it beside the
// drains, as the least ratio digests on/off can reach over this run's digests-off CPU.
import { hash } from "node:crypto";
import { BSON, type Document } from "bson";
import { canonicalBytes } from "../sidecar/verify/canonical.js";

export interface DigestFloor {
  /** µs of CPU per record, median of 5 passes. */
  canonical: number;
  bsonSerialize: number;
  sha256: number;
}

/** µs of CPU per document for `f` over `docs`: one warm-up pass, the median of five. */
function perDoc<T>(docs: readonly T[], f: (doc: T) => unknown): number {
  for (const doc of docs) f(doc);
  const passes: number[] = [];
  for (let pass = 0; pass < 5; pass++) {
    const cpu = process.cpuUsage();
    for (const doc of docs) f(doc);
    const used = process.cpuUsage(cpu);
    passes.push((used.user + used.system) / docs.length);
  }
  return passes.sort((a, b) => a - b)[2] as number;
}

export function digestFloor(docs: readonly Document[]): DigestFloor {
  const bytes = docs.map((doc) => Buffer.from(canonicalBytes(doc)));
  return {
    canonical: perDoc(docs, (doc) => canonicalBytes(doc)),
    bsonSerialize: perDoc(docs, (doc) => BSON.serialize(doc)),
    sha256: perDoc(bytes, (b) => hash("sha256", b, "buffer")),
  };
}

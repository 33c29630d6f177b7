// A stored document's canonical bytes and their SHA-256: what a digest says of each record, and
// what `auditq verify` recomputes from what MongoDB returns (docs/proof.md#canonical-bytes).
//
// Canonical bytes: the document's BSON with every object's keys sorted by UTF-16 code unit,
// -0.0 written as 0.0 (FerretDB stores it so) and undefined as null (as the driver stores it).
// `writeCanonical` writes them straight into a reused buffer for the usual types; a document
// with any other BSON type goes through `canonicalValue` and bson's serializer, which is also
// the definition the tests hold the fast path to.
import { hash } from "node:crypto";
import { BSON, type Document, Double } from "bson";
import { writeCanonical } from "./canonical-writer.js";

/**
 * How a verifier must read documents for `documentHash` to recompute the writer's hash: every
 * BSON type as stored (an int32 stays `Int32`, a double `Double`, an int64 `Long`), so that
 * serializing again gives the stored types back.
 */
export const EXACT_READ = {
  promoteValues: false,
  promoteLongs: false,
  promoteBuffers: false,
  bsonRegExp: true,
} as const;

const ZERO = new Double(0);

/**
 * Whether `value` is a BSON value of `type`. By its `_bsontype`, not `instanceof`: the driver
 * deserializes with bson's CommonJS build, this module may have loaded the ES module build.
 */
export function isBsonType(value: unknown, type: string): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { _bsontype?: unknown })._bsontype === type
  );
}

/** `value` as canonical bytes see it: keys sorted, -0 a double 0, undefined null. */
function canonicalValue(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === "number") return Object.is(value, -0) ? ZERO : value;
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map(canonicalValue);
  if (isBsonType(value, "Double")) return Object.is((value as Double).value, -0) ? ZERO : value;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const obj = value as Record<string, unknown>;
  // A Map keeps the sorted order; an object would put integer-like keys ("2", "10") first.
  const out = new Map<string, unknown>();
  for (const key of Object.keys(obj).sort()) out.set(key, canonicalValue(obj[key]));
  return out;
}

/** The canonical bytes of `doc` by bson's serializer: the definition, and the slow path. */
export function referenceCanonicalBytes(doc: Document): Uint8Array {
  return BSON.serialize(canonicalValue(doc) as Map<string, unknown>);
}

/** The canonical bytes of a document (a view into a reused buffer: use before the next call). */
export function canonicalBytes(doc: Document): Uint8Array {
  return writeCanonical(doc) ?? referenceCanonicalBytes(doc);
}

/** SHA-256 of `doc`'s canonical bytes (32 bytes). */
export function documentHash(doc: Document): Buffer {
  return hash("sha256", canonicalBytes(doc), "buffer");
}

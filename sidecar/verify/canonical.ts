// A stored document's canonical bytes and their SHA-256: what a digest says of each record, and
// what `auditq verify` recomputes from what MongoDB returns (docs/proof.md#canonical-bytes).
import { createHash } from "node:crypto";
import { BSON, type Document, Double } from "bson";

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

/**
 * `value` with the keys of every plain object sorted (MongoDB moves `_id` first; order is not
 * content) and negative zero made zero (FerretDB stores -0.0 as 0.0). BSON values (ObjectId,
 * Date, Long, Binary, ...) are kept as they are. Returns `value` itself when nothing changes.
 */
function canonicalValue(value: unknown): unknown {
  if (typeof value === "number") return Object.is(value, -0) ? 0 : value;
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = canonicalValue(value[i]);
      if (v !== value[i]) {
        out ??= value.slice();
        out[i] = v;
      }
    }
    return out ?? value;
  }
  if (isBsonType(value, "Double")) return Object.is((value as Double).value, -0) ? ZERO : value;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  const out: Record<string, unknown> = {};
  for (const key of keys) out[key] = canonicalValue(obj[key]);
  return out;
}

/**
 * The canonical bytes of a document: BSON of the document with every object's keys sorted by
 * UTF-16 code unit and -0 written as 0. The same for the document the sidecar inserted and for
 * the one a verifier reads back with `EXACT_READ`.
 */
export function canonicalBytes(doc: Document): Uint8Array {
  return BSON.serialize(canonicalValue(doc) as Document);
}

/** SHA-256 of `doc`'s canonical bytes (32 bytes). */
export function documentHash(doc: Document): Buffer {
  return createHash("sha256").update(canonicalBytes(doc)).digest();
}

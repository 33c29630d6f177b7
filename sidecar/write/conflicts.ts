// Tells a redelivered record (same `_id`, same content) from a conflicting one (other content).
import { createHash } from "node:crypto";
import { type Document, EJSON } from "bson";
import type { Collection } from "mongodb";
import type { RecordOutcome } from "./mongo-sink.js";

/** `value` with the keys of every object sorted: MongoDB moves `_id` first, order is not content. */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (typeof value !== "object" || value === null) return value;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value; // a BSON value or a Date
  const obj = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(obj).sort()) out[key] = sortedKeys(obj[key]);
  return out;
}

/**
 * SHA-256 of a record's content: canonical Extended JSON (types explicit, so 1 and "1" differ)
 * of the record with its keys sorted. A record read back from MongoDB hashes like the record
 * that was inserted.
 */
function contentHash(doc: Document): string {
  const text = EJSON.stringify(sortedKeys(doc) as Document, { relaxed: false });
  return createHash("sha256").update(text).digest("hex");
}

/**
 * Rewrites each "duplicate" outcome (the `_id` is taken) as "conflict" when the stored record's
 * content differs from the one we hold: a redelivery is a duplicate, anything else (a forged
 * record that took a real record's `_id`, or the same `_id` twice in one message with other
 * content) must be surfaced, never merged or dropped. One find for the whole bulk; throws when
 * it fails (the caller then treats the outcomes as unknown).
 */
export async function findConflicts(
  collection: Collection,
  docs: readonly Document[],
  outcomes: readonly RecordOutcome[],
): Promise<RecordOutcome[]> {
  const duplicates = outcomes.flatMap((o, i) => (o.kind === "duplicate" ? [i] : []));
  if (duplicates.length === 0) return [...outcomes];
  const ids = duplicates.map((i) => (docs[i] as Document)._id);
  const stored = await collection.find({ _id: { $in: ids } }).toArray();
  const storedHash = new Map<string, string>();
  for (const doc of stored) storedHash.set(EJSON.stringify({ id: doc._id }), contentHash(doc));
  const out = [...outcomes];
  for (const i of duplicates) {
    const doc = docs[i] as Document;
    const theirs = storedHash.get(EJSON.stringify({ id: doc._id }));
    const ours = contentHash(doc);
    // Gone since (a TTL, a delete): nothing to compare with, and nothing was replaced.
    if (theirs === undefined || theirs === ours) continue;
    out[i] = { kind: "conflict", hash: ours, storedHash: theirs };
  }
  return out;
}

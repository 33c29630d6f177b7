// An ObjectId's 12 bytes, written where they are needed. bson's `id` getter builds a new Buffer on
// every read (bson 7 keeps the id as numbers): per record and per digest entry that allocation
// was a good part of what hashing cost.
import type { ObjectId } from "bson";

type Serializable = ObjectId & { serializeInto?: (into: Uint8Array, at: number) => number };

/** Writes `id`'s 12 bytes into `into` at `at`. */
export function writeObjectId(id: ObjectId, into: Uint8Array, at: number): void {
  const fast = (id as Serializable).serializeInto;
  if (typeof fast === "function") fast.call(id, into, at);
  else into.set(id.id, at);
}

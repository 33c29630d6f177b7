// Gives a record without `_id` (a plain body from another producer) one that survives redelivery.
import { createHash } from "node:crypto";
import { type Document, ObjectId } from "bson";

/**
 * A record keeps its own `_id` (MongoDB judges it; a refused one is quarantined). Without one, its
 * `_id` is derived from the SQS MessageId and its position in the message: the MessageId stays
 * the same on every redelivery, so a redelivered message still dedups.
 */
export function withDeterministicIds(docs: Document[], messageId: string | undefined): Document[] {
  if (messageId === undefined) return docs;
  return docs.map((doc, index) => {
    if (doc._id !== undefined) return doc;
    const hex = createHash("sha256")
      .update(`auditq:${messageId}:${index}`)
      .digest("hex")
      .slice(0, 24);
    return { _id: ObjectId.createFromHexString(hex), ...doc };
  });
}

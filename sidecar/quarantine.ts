// Stores what cannot be written (a refused record, an undecodable message) with the reason.
import { EJSON } from "bson";
import type { Collection, Document, WriteConcernSettings } from "mongodb";
import { insertRecords } from "./mongo-sink.js";

/** A record MongoDB refused, or a whole message that could not be decoded. */
export interface QuarantineEntry {
  kind: "record" | "message";
  messageId: string;
  /** Position of the record in its message (kind "record"). */
  index?: number;
  receiveCount: number;
  /** The record as relaxed Extended JSON, or the message body as received. */
  raw: string;
  attributes?: Record<string, string | undefined>;
  error: { code?: number | undefined; message: string };
}

/**
 * Inserts the entries. Their `_id` is derived from the message id (stable across redeliveries),
 * so quarantining the same message twice stores it once. Throws when the outcome is unknown.
 */
export async function quarantine(
  collection: Collection,
  entries: readonly QuarantineEntry[],
  writeConcern: WriteConcernSettings,
): Promise<void> {
  if (entries.length === 0) return;
  const now = new Date();
  const docs: Document[] = entries.map((e) => ({
    _id: e.kind === "record" ? `${e.messageId}/${e.index}` : e.messageId,
    ...e,
    quarantinedAt: now,
  }));
  const outcomes = await insertRecords(collection, docs, writeConcern);
  const refused = outcomes.find((o) => o.kind === "failed");
  if (refused?.kind === "failed") {
    throw new Error(`quarantine refused an entry: ${refused.message}`);
  }
}

/** A record as text for the quarantine, whatever is wrong with it. */
export function recordText(doc: Document): string {
  return EJSON.stringify(doc, { relaxed: true });
}

// Stores what cannot be written (a refused record, an undecodable message, a conflict).
// Each entry keeps the reason.
import type { Message } from "@aws-sdk/client-sqs";
import { EJSON } from "bson";
import type { Collection, Document, WriteConcernSettings } from "mongodb";
import { ATTR_PAYLOAD } from "../../shared/wire/payload-attribute.js";
import { insertIsolating } from "./isolation.js";
import { fullDocument, type QuarantineEntry, reducedDocument } from "./quarantine-document.js";

export type { QuarantineEntry } from "./quarantine-document.js";

/** What was stored: entries in full, and entries MongoDB refused whole and took reduced. */
export interface QuarantineResult {
  stored: number;
  reduced: number;
}

/** Thrown when an entry was refused even reduced: its message must stay on the queue. */
class QuarantineRefusedError extends Error {
  override name = "QuarantineRefusedError";
}

/**
 * Inserts the entries, each on its own: an entry MongoDB refuses is stored again reduced (see
 * reducedDocument), so that one bad entry never keeps the others, or its message, on the queue.
 * `_id`s derive from the message id (stable across redeliveries): quarantining the same thing
 * twice stores it once. Throws when an outcome is unknown (MongoDB unreachable), and
 * QuarantineRefusedError when even a reduced entry is refused.
 */
export async function quarantine(
  collection: Collection,
  entries: readonly QuarantineEntry[],
  writeConcern: WriteConcernSettings,
  answers: () => Promise<boolean>,
): Promise<QuarantineResult> {
  if (entries.length === 0) return { stored: 0, reduced: 0 };
  const now = new Date();
  const outcomes = await insertIsolating(
    collection,
    entries.map((e) => fullDocument(e, now)),
    writeConcern,
    answers,
  );
  const refused: Document[] = [];
  for (const [i, outcome] of outcomes.entries()) {
    if (outcome.kind === "failed") {
      refused.push(reducedDocument(entries[i] as QuarantineEntry, outcome.message, now));
    }
  }
  if (refused.length === 0) return { stored: entries.length, reduced: 0 };
  const again = await insertIsolating(collection, refused, writeConcern, answers);
  const still = again.find((o) => o.kind === "failed");
  if (still?.kind === "failed") {
    throw new QuarantineRefusedError(`quarantine refused a reduced entry: ${still.message}`);
  }
  return { stored: entries.length - refused.length, reduced: refused.length };
}

/** The bytes of a received message's payload attribute, if it has one. */
export function messagePayload(message: Message): Uint8Array | undefined {
  return message.MessageAttributes?.[ATTR_PAYLOAD]?.BinaryValue;
}

/** A received message as a quarantine entry keeps it: body, attributes, payload bytes. */
export function quarantinedMessage(
  message: Message,
): Pick<QuarantineEntry, "raw" | "body" | "attributes" | "payload"> {
  const body = message.Body ?? "";
  const attributes = message.MessageAttributes ?? {};
  const payload = messagePayload(message);
  return {
    raw: body,
    body,
    // A binary attribute is named by its size: its bytes are in `payload` when they are ours.
    attributes: Object.fromEntries(
      Object.entries(attributes).map(([k, v]) => [
        k,
        v.StringValue ??
          (v.BinaryValue === undefined ? undefined : `(binary, ${v.BinaryValue.byteLength} bytes)`),
      ]),
    ),
    ...(payload === undefined ? {} : { payload }),
  };
}

/** A record as text for the quarantine, whatever is wrong with it. */
export function recordText(doc: Document): string {
  try {
    return EJSON.stringify(doc, { relaxed: true });
  } catch (err) {
    // Too deep or otherwise unprintable: the reduced entry keeps the message body instead.
    return `(record cannot be printed as Extended JSON: ${err instanceof Error ? err.message : String(err)})`;
  }
}

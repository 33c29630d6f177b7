// Stores what cannot be written (a refused record, an undecodable message, a conflict).
// Each entry keeps the reason.
import { createHash } from "node:crypto";
import type { Message } from "@aws-sdk/client-sqs";
import { EJSON } from "bson";
import type { Collection, Document, WriteConcernSettings } from "mongodb";
import { ATTR_PAYLOAD } from "../../shared/wire/payload-attribute.js";
import { insertIsolating } from "./isolation.js";

/** A record MongoDB refused or that conflicts with a stored one, or a message not decoded. */
export interface QuarantineEntry {
  kind: "record" | "message" | "conflict";
  messageId: string;
  /** Position of the record in its message (kinds "record" and "conflict"). */
  index?: number;
  receiveCount: number;
  /** The record as relaxed Extended JSON, or the message body as received. */
  raw: string;
  /** The SQS message body as received: what a reduced entry keeps when the full one is refused. */
  body: string;
  attributes?: Record<string, string | undefined>;
  /**
   * The bytes of the message's `auditq-payload` attribute (the compressed records of a
   * binary-payload message): what a reduced entry keeps beside the body, which then holds no
   * record. Kept in a full entry of kind "message" too.
   */
  payload?: Uint8Array | undefined;
  error: { code?: number | undefined; message: string };
  /** Kind "conflict": content hashes of the stored record and of this one. */
  conflict?: { storedHash: string; hash: string };
}

/**
 * Most bytes of a message body a reduced entry keeps (as base64, about 5.4 MiB): a body SQS
 * delivers (1 MiB at most) always fits whole; a longer one is cut, with its length and hash kept.
 */
const REDUCED_BODY_MAX_BYTES = 4 * 1024 * 1024;
const REASON_MAX_CHARS = 4096;

/** What was stored: entries in full, and entries MongoDB refused whole and took reduced. */
export interface QuarantineResult {
  stored: number;
  reduced: number;
}

/** Thrown when an entry was refused even reduced: its message must stay on the queue. */
class QuarantineRefusedError extends Error {
  override name = "QuarantineRefusedError";
}

function entryId(e: QuarantineEntry): string {
  if (e.kind === "message") return e.messageId;
  return `${e.messageId}/${e.index}${e.kind === "conflict" ? "/conflict" : ""}`;
}

function fullDocument(e: QuarantineEntry, now: Date): Document {
  // A record's full entry has its text in `raw`: like the body, the message's payload is only
  // kept when the entry is reduced (or the entry is the message itself).
  const { body: _body, payload, ...rest } = e;
  const kept = e.kind === "message" && payload !== undefined ? { payload } : {};
  return { _id: entryId(e), ...rest, ...kept, quarantinedAt: now };
}

/**
 * The entry reduced to plain strings and numbers MongoDB always takes: the message body as
 * received (base64, cut at REDUCED_BODY_MAX_BYTES), its length and SHA-256, the reason, and why
 * the full entry was refused. Enough to find the message again and replay it by hand.
 */
function reducedDocument(e: QuarantineEntry, refusal: string, now: Date): Document {
  const body = Buffer.from(e.body, "utf8");
  const kept = body.subarray(0, REDUCED_BODY_MAX_BYTES);
  return {
    _id: entryId(e),
    kind: e.kind,
    reduced: true,
    messageId: e.messageId,
    ...(e.index === undefined ? {} : { index: e.index }),
    receiveCount: e.receiveCount,
    bodyBase64: kept.toString("base64"),
    bodyBytes: body.length,
    bodyTruncated: kept.length < body.length,
    bodySha256: createHash("sha256").update(body).digest("hex"),
    ...(e.payload === undefined ? {} : { payload: e.payload }),
    error: { message: e.error.message.slice(0, REASON_MAX_CHARS) },
    refusedBecause: refusal.slice(0, REASON_MAX_CHARS),
    quarantinedAt: now,
  };
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

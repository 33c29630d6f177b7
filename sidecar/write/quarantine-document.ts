// The documents quarantine entries are stored as, full or reduced, and bounded in size: a refused
// message keeps at most QUARANTINED_MESSAGE_MAX_BYTES of its body and of its payload.
import { createHash } from "node:crypto";
import type { Document } from "mongodb";

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
   * record. Kept in a full entry of kind "message" too, cut like the body.
   */
  payload?: Uint8Array | undefined;
  error: { code?: number | undefined; message: string };
  /** Kind "conflict": content hashes of the stored record and of this one. */
  conflict?: { storedHash: string; hash: string };
}

/**
 * Most bytes of a refused message's body, and of its payload, that its entry keeps. Beyond it the
 * entry keeps that prefix, the length and the SHA-256: anyone who can send to the queue writes
 * these entries, so each costs MongoDB a bounded amount (see maxQuarantineRate for how many).
 */
export const QUARANTINED_MESSAGE_MAX_BYTES = 8 * 1024;

/**
 * Most bytes of a message body a reduced entry of a record keeps (as base64, about 5.4 MiB): a
 * body SQS delivers (1 MiB at most) always fits whole; a longer one is cut, with its length and
 * hash kept. The record's message passed the decoder, and its signature when signing is on.
 */
const REDUCED_BODY_MAX_BYTES = 4 * 1024 * 1024;
const REASON_MAX_CHARS = 4096;
/** Most characters kept of each string attribute of a refused message. */
const ATTRIBUTE_MAX_CHARS = 256;

/** `bytes` cut at `max`, with what the cut lost: their length and SHA-256, when cut. */
function boundedBytes(
  bytes: Uint8Array,
  max: number,
): { kept: Uint8Array; bytes: number; sha256: string; truncated: boolean } {
  return {
    kept: bytes.subarray(0, max),
    bytes: bytes.byteLength,
    sha256: createHash("sha256").update(bytes).digest("hex"),
    truncated: bytes.byteLength > max,
  };
}

/** The first `max` UTF-8 bytes of `text`, never splitting a character. */
function textPrefix(text: string, max: number): string {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= max) return text;
  return new TextDecoder().decode(bytes.subarray(0, max), { stream: true });
}

function entryId(e: QuarantineEntry): string {
  if (e.kind === "message") return e.messageId;
  return `${e.messageId}/${e.index}${e.kind === "conflict" ? "/conflict" : ""}`;
}

/** A refused message's body as text and payload bytes, each cut at the bound with its digest. */
function boundedMessage(e: QuarantineEntry): Document {
  const body = boundedBytes(Buffer.from(e.body, "utf8"), QUARANTINED_MESSAGE_MAX_BYTES);
  const out: Document = {
    raw: body.truncated ? textPrefix(e.body, QUARANTINED_MESSAGE_MAX_BYTES) : e.body,
    bodyBytes: body.bytes,
    bodySha256: body.sha256,
    bodyTruncated: body.truncated,
  };
  if (e.payload !== undefined) {
    const payload = boundedBytes(e.payload, QUARANTINED_MESSAGE_MAX_BYTES);
    Object.assign(out, {
      payload: payload.kept,
      payloadBytes: payload.bytes,
      payloadSha256: payload.sha256,
      payloadTruncated: payload.truncated,
    });
  }
  return out;
}

function boundedAttributes(
  attributes: QuarantineEntry["attributes"],
): Record<string, string | undefined> | undefined {
  if (attributes === undefined) return undefined;
  return Object.fromEntries(
    Object.entries(attributes).map(([k, v]) => [
      k.slice(0, ATTRIBUTE_MAX_CHARS),
      v?.slice(0, ATTRIBUTE_MAX_CHARS),
    ]),
  );
}

export function fullDocument(e: QuarantineEntry, now: Date): Document {
  const { body: _body, payload: _payload, raw, attributes, error, ...rest } = e;
  const reason = { ...error, message: error.message.slice(0, REASON_MAX_CHARS) };
  const common = { _id: entryId(e), ...rest, error: reason, quarantinedAt: now };
  if (e.kind === "message") {
    const kept = boundedAttributes(attributes);
    return { ...common, ...boundedMessage(e), ...(kept === undefined ? {} : { attributes: kept }) };
  }
  // A record's full entry has its text in `raw`: like the body, the message's payload is only
  // kept when the entry is reduced.
  return { ...common, raw, ...(attributes === undefined ? {} : { attributes }) };
}

/**
 * The entry reduced to plain strings and numbers MongoDB always takes: the message body as
 * received (base64, cut at REDUCED_BODY_MAX_BYTES, or QUARANTINED_MESSAGE_MAX_BYTES for a refused
 * message), its length and SHA-256, the payload (cut the same way for a refused message), the
 * reason, and why the full entry was refused. Enough to find the message again and replay it by
 * hand, when it was not cut.
 */
export function reducedDocument(e: QuarantineEntry, refusal: string, now: Date): Document {
  const max = e.kind === "message" ? QUARANTINED_MESSAGE_MAX_BYTES : REDUCED_BODY_MAX_BYTES;
  const body = boundedBytes(Buffer.from(e.body, "utf8"), max);
  const payload = e.payload === undefined ? undefined : boundedBytes(e.payload, max);
  return {
    _id: entryId(e),
    kind: e.kind,
    reduced: true,
    messageId: e.messageId,
    ...(e.index === undefined ? {} : { index: e.index }),
    receiveCount: e.receiveCount,
    bodyBase64: Buffer.from(body.kept).toString("base64"),
    bodyBytes: body.bytes,
    bodyTruncated: body.truncated,
    bodySha256: body.sha256,
    ...(payload === undefined
      ? {}
      : payload.truncated
        ? {
            payload: payload.kept,
            payloadBytes: payload.bytes,
            payloadSha256: payload.sha256,
            payloadTruncated: true,
          }
        : { payload: payload.kept }),
    error: { message: e.error.message.slice(0, REASON_MAX_CHARS) },
    refusedBecause: refusal.slice(0, REASON_MAX_CHARS),
    quarantinedAt: now,
  };
}

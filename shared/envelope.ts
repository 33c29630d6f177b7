// The SQS message format: many records per message, Extended JSON so ObjectId and Date survive.
import { type Document, EJSON } from "bson";
import { DecodeError } from "./errors.js";

/**
 * Version of the envelope format. A message body is
 * `{"auditq":1,"records":[<record>, ...]}` where each record is relaxed Extended JSON.
 */
export const ENVELOPE_VERSION = 1;

/** Message attribute naming the envelope version (`"1"`). */
export const ATTR_FORMAT = "auditq-format";

/**
 * Message attribute naming how the body is encoded. Absent means plain JSON text; no other
 * encoding exists yet (compression is planned, and will be named here).
 */
export const ATTR_ENCODING = "auditq-encoding";

const ENVELOPE_PREFIX = `{"auditq":${ENVELOPE_VERSION},"records":[`;
const ENVELOPE_SUFFIX = "]}";

/** Bytes an envelope adds around its records, plus one comma per record after the first. */
export const ENVELOPE_OVERHEAD_BYTES = ENVELOPE_PREFIX.length + ENVELOPE_SUFFIX.length;

/** The message attributes every auditq message carries. */
export const ENVELOPE_ATTRIBUTES = {
  [ATTR_FORMAT]: { DataType: "String", StringValue: String(ENVELOPE_VERSION) },
} as const;

/** One record as it goes into an envelope. */
export function serializeRecord(record: Document): string {
  return EJSON.stringify(record, { relaxed: true });
}

/** Joins records made by {@link serializeRecord} into one message body. */
export function envelopeBody(serializedRecords: readonly string[]): string {
  return ENVELOPE_PREFIX + serializedRecords.join(",") + ENVELOPE_SUFFIX;
}

/** UTF-8 length of a string, as SQS counts message size. */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

interface MessageAttributeLike {
  DataType?: string | undefined;
  StringValue?: string | undefined;
  BinaryValue?: Uint8Array | undefined;
}

/**
 * Size of a message the way SQS counts it against `MaximumMessageSize`: the body plus, for
 * each attribute, its name, data type and value.
 */
export function messageBytes(
  body: string,
  attributes: Record<string, MessageAttributeLike> = {},
): number {
  let bytes = utf8Bytes(body);
  for (const [name, attr] of Object.entries(attributes)) {
    bytes += utf8Bytes(name) + utf8Bytes(attr.DataType ?? "");
    if (attr.StringValue !== undefined) bytes += utf8Bytes(attr.StringValue);
    if (attr.BinaryValue !== undefined) bytes += attr.BinaryValue.byteLength;
  }
  return bytes;
}

/**
 * Decodes a message body into the documents to insert. Accepts an auditq envelope, or a plain
 * JSON object holding a single record (as another producer might send). Throws DecodeError.
 */
export function decodeBody(body: string): Document[] {
  let parsed: unknown;
  try {
    parsed = EJSON.parse(body, { relaxed: true });
  } catch (cause) {
    throw new DecodeError("message body is not valid (Extended) JSON", { cause });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new DecodeError("message body is not a JSON object");
  }
  const obj = parsed as Document;
  if (!("auditq" in obj)) return [obj];
  if (obj.auditq !== ENVELOPE_VERSION) {
    throw new DecodeError(`unsupported envelope version ${JSON.stringify(obj.auditq)}`);
  }
  const records: unknown = obj.records;
  if (!Array.isArray(records)) throw new DecodeError("envelope has no records array");
  for (const [i, record] of records.entries()) {
    if (typeof record !== "object" || record === null || Array.isArray(record)) {
      throw new DecodeError(`envelope record ${i} is not an object`);
    }
  }
  return records as Document[];
}

/** An SQS message as received, reduced to what decoding needs. */
export interface ReceivedMessageLike {
  Body?: string | undefined;
  MessageAttributes?: Record<string, MessageAttributeLike> | undefined;
}

/**
 * Decodes a received message into the documents to insert, whatever encoding its
 * `auditq-encoding` attribute names. Async so that decompression can stay off the event loop.
 * Throws DecodeError.
 */
export async function decodeMessage(message: ReceivedMessageLike): Promise<Document[]> {
  const encoding = message.MessageAttributes?.[ATTR_ENCODING]?.StringValue;
  if (encoding !== undefined && encoding !== "identity") {
    throw new DecodeError(`unsupported ${ATTR_ENCODING} ${JSON.stringify(encoding)}`);
  }
  return decodeBody(message.Body ?? "");
}

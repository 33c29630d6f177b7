// The SQS message format: many records per message, Extended JSON so ObjectId and Date survive.
import { promisify } from "node:util";
import { brotliCompress, brotliDecompress, constants, gunzip, gzip } from "node:zlib";
import { type Document, EJSON } from "bson";
import { DecodeError } from "./errors.js";

const brotliCompressAsync = promisify(brotliCompress);
const brotliDecompressAsync = promisify(brotliDecompress);
const gunzipAsync = promisify(gunzip);
const gzipAsync = promisify(gzip);

/**
 * Version of the envelope format. A message body is
 * `{"auditq":1,"n":<count>,"records":[<record>, ...]}` where each record is relaxed Extended
 * JSON and `n` (optional when decoding) is the number of records, checked on decode.
 */
export const ENVELOPE_VERSION = 1;

/** Message attribute naming the envelope version (`"1"`). */
export const ATTR_FORMAT = "auditq-format";

/**
 * Message attribute naming how the body is encoded. Absent (or `identity`) means plain JSON
 * text; `br` and `gzip` mean the envelope text compressed so, then base64-encoded.
 */
export const ATTR_ENCODING = "auditq-encoding";

/** How a message body is encoded; see {@link ATTR_ENCODING}. */
export type BodyEncoding = "identity" | "br" | "gzip";

const ENVELOPE_PREFIX = `{"auditq":${ENVELOPE_VERSION},"n":`;
const ENVELOPE_RECORDS = `,"records":[`;
const ENVELOPE_SUFFIX = "]}";

/** Bytes an envelope of `count` records adds around them, commas between records included. */
export function envelopeOverheadBytes(count: number): number {
  return (
    ENVELOPE_PREFIX.length +
    String(count).length +
    ENVELOPE_RECORDS.length +
    ENVELOPE_SUFFIX.length +
    Math.max(0, count - 1)
  );
}

/** The message attributes every auditq message carries. */
export const ENVELOPE_ATTRIBUTES = {
  [ATTR_FORMAT]: { DataType: "String", StringValue: String(ENVELOPE_VERSION) },
} as const;

const ATTRIBUTES_BY_ENCODING: Record<BodyEncoding, Record<string, MessageAttributeLike>> = {
  identity: ENVELOPE_ATTRIBUTES,
  br: { ...ENVELOPE_ATTRIBUTES, [ATTR_ENCODING]: { DataType: "String", StringValue: "br" } },
  gzip: { ...ENVELOPE_ATTRIBUTES, [ATTR_ENCODING]: { DataType: "String", StringValue: "gzip" } },
};

/** The message attributes of a message whose body is encoded with `encoding`. */
export function envelopeAttributes(encoding: BodyEncoding) {
  return ATTRIBUTES_BY_ENCODING[encoding] as Record<
    string,
    { DataType: string; StringValue: string }
  >;
}

/**
 * Brotli quality used for bodies. Quality 5 gave 13% fewer bytes than gzip level 6 on
 * realistic records at about 1.3x its CPU time (see BENCHMARKS.md); 9+ costs 5x for 2% more.
 */
export const BROTLI_QUALITY = 5;

/** Decompressed size above which a body is refused, so a hostile message cannot exhaust memory. */
export const MAX_DECODED_BODY_BYTES = 64 * 1024 * 1024;

/** Compresses envelope text (off the event loop) into a base64 body for `encoding`. */
export async function encodeBody(text: string, encoding: BodyEncoding): Promise<string> {
  if (encoding === "identity") return text;
  if (encoding === "gzip") {
    return (await gzipAsync(text)).toString("base64");
  }
  const input = Buffer.from(text, "utf8");
  const out = await brotliCompressAsync(input, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
      [constants.BROTLI_PARAM_SIZE_HINT]: input.length,
    },
  });
  return out.toString("base64");
}

/** One record as it goes into an envelope. */
export function serializeRecord(record: Document): string {
  return EJSON.stringify(record, { relaxed: true });
}

/** Joins records made by {@link serializeRecord} into one message body. */
export function envelopeBody(serializedRecords: readonly string[]): string {
  return (
    ENVELOPE_PREFIX +
    serializedRecords.length +
    ENVELOPE_RECORDS +
    serializedRecords.join(",") +
    ENVELOPE_SUFFIX
  );
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
  if (obj.n !== undefined && obj.n !== records.length) {
    throw new DecodeError(`envelope says ${String(obj.n)} records but holds ${records.length}`);
  }
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
  const body = message.Body ?? "";
  if (encoding === undefined || encoding === "identity") return decodeBody(body);
  if (encoding !== "br" && encoding !== "gzip") {
    throw new DecodeError(`unsupported ${ATTR_ENCODING} ${JSON.stringify(encoding)}`);
  }
  const compressed = Buffer.from(body, "base64");
  let text: string;
  try {
    const options = { maxOutputLength: MAX_DECODED_BODY_BYTES };
    const out =
      encoding === "br"
        ? await brotliDecompressAsync(compressed, options)
        : await gunzipAsync(compressed, options);
    text = out.toString("utf8");
  } catch (cause) {
    throw new DecodeError(`message body does not decompress as ${encoding}`, { cause });
  }
  return decodeBody(text);
}

// The SQS message format: many records per message, Extended JSON so ObjectId and Date survive.
import { promisify } from "node:util";
import { brotliCompress, brotliDecompress, constants, gunzip, gzip } from "node:zlib";
import { type Document, EJSON, ObjectId } from "bson";
import { parseRelaxedEjson } from "./ejson-parse.js";
import { DecodeError } from "./errors.js";
import { type DecodeLimits, type JsonShape, scanJson } from "./json-bounds.js";

export type { DecodeLimits, JsonShape } from "./json-bounds.js";

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

/**
 * Decompressed size above which a body is refused, so a hostile message cannot exhaust memory.
 * The producer never writes more than 4 MiB of envelope text per message; 32 MiB leaves room
 * for other producers and for a record over MongoDB's 16 MiB limit to reach the quarantine.
 */
export const MAX_DECODED_BODY_BYTES = 32 * 1024 * 1024;

/**
 * Limits of {@link decodeMessage} when none are given. 10,000 records is the producer's own
 * per-message maximum; half a million values bounds what parsing one message allocates (see the
 * README's memory bound) while real envelopes hold far fewer (about 25 values per record).
 */
export const DEFAULT_DECODE_LIMITS: Readonly<DecodeLimits> = Object.freeze({
  maxRecords: 10_000,
  maxValues: 500_000,
});

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

/**
 * One record as it goes into an envelope: relaxed Extended JSON, byte for byte what
 * `EJSON.stringify(record, { relaxed: true })` writes. Records are plain data with an ObjectId
 * and Dates, which {@link plainForJson} turns into `{"$oid"}`/`{"$date"}` objects for the
 * native `JSON.stringify` (about half EJSON's time); anything else goes through EJSON itself.
 */
export function serializeRecord(record: Document): string {
  if (!("toJSON" in Object.prototype)) {
    const plain = plainForJson(record, 0);
    if (plain !== NOT_PLAIN) return JSON.stringify(plain);
  }
  return EJSON.stringify(record, { relaxed: true });
}

const NOT_PLAIN: unique symbol = Symbol("not plain");
/** Deeper than this, leave it to EJSON (which also reports circular structures). */
const PLAIN_MAX_DEPTH = 64;
/** First instant of year 10000: EJSON relaxed writes dates from 1970 up to here as ISO text. */
const ISO_DATE_END = 253402300800000;

/**
 * `value` as JSON.stringify must see it to write what relaxed EJSON writes: the same object
 * when it holds only strings, finite numbers, booleans, null, plain objects and arrays; a copy
 * with ObjectIds and in-range Dates replaced by their Extended JSON form; NOT_PLAIN for anything
 * else (undefined, non-finite numbers, bigint, other classes and BSON types, `_bsontype` or
 * `toJSON` keys, a `__proto__` key that would have to be copied, very deep nesting).
 */
function plainForJson(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      return Number.isFinite(value) ? value : NOT_PLAIN;
    case "object":
      break;
    default:
      return NOT_PLAIN;
  }
  if (value === null) return value;
  if (depth > PLAIN_MAX_DEPTH) return NOT_PLAIN;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    const obj = value as Record<string, unknown>;
    if (obj._bsontype !== undefined || obj.toJSON !== undefined) return NOT_PLAIN;
    const keys = Object.keys(obj);
    let copy: Record<string, unknown> | undefined;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      const item = obj[key];
      const out = plainForJson(item, depth + 1);
      if (out === NOT_PLAIN) return NOT_PLAIN;
      if (copy === undefined && out !== item) {
        copy = {};
        for (let j = 0; j < i; j++) {
          const before = keys[j] as string;
          if (before === "__proto__") return NOT_PLAIN;
          copy[before] = obj[before];
        }
      }
      if (copy !== undefined) {
        if (key === "__proto__") return NOT_PLAIN;
        copy[key] = out;
      }
    }
    return copy ?? obj;
  }
  if (proto === Array.prototype) {
    const arr = value as unknown[];
    if ((arr as { toJSON?: unknown }).toJSON !== undefined) return NOT_PLAIN;
    let copy: unknown[] | undefined;
    for (let i = 0; i < arr.length; i++) {
      const item = arr[i];
      const out = plainForJson(item, depth + 1);
      if (out === NOT_PLAIN) return NOT_PLAIN;
      if (copy === undefined && out !== item) copy = arr.slice(0, i);
      if (copy !== undefined) copy.push(out);
    }
    return copy ?? arr;
  }
  if (proto === ObjectId.prototype) return { $oid: (value as ObjectId).toHexString() };
  if (proto === Date.prototype) {
    const date = value as Date;
    const time = date.getTime();
    if (!(time > -1 && time < ISO_DATE_END)) return NOT_PLAIN;
    const iso = date.toISOString();
    // As EJSON writes it: milliseconds only when not zero.
    return { $date: date.getUTCMilliseconds() !== 0 ? iso : `${iso.slice(0, -5)}Z` };
  }
  return NOT_PLAIN;
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
    parsed = parseRelaxedEjson(body);
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

/** A message body decompressed and measured, not parsed yet. */
export interface MeasuredBody {
  /** The envelope (or plain record) text as UTF-8 bytes. */
  bytes: Buffer;
  /** Records and values it holds; `records` is at least 1 (a plain record is one). */
  shape: JsonShape;
}

/**
 * Decompresses a received message's body, whatever encoding its `auditq-encoding` attribute
 * names (off the event loop), and counts what it would parse into, refusing it with DecodeError
 * beyond `limits` or MAX_DECODED_BODY_BYTES. Nothing is parsed: a bomb is refused from its bytes.
 */
export async function measureMessage(
  message: ReceivedMessageLike,
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
): Promise<MeasuredBody> {
  const encoding = message.MessageAttributes?.[ATTR_ENCODING]?.StringValue;
  const body = message.Body ?? "";
  let bytes: Buffer;
  if (encoding === undefined || encoding === "identity") {
    bytes = Buffer.from(body, "utf8");
    if (bytes.length > MAX_DECODED_BODY_BYTES) {
      throw new DecodeError(`message body is larger than ${MAX_DECODED_BODY_BYTES} bytes`);
    }
  } else if (encoding !== "br" && encoding !== "gzip") {
    throw new DecodeError(`unsupported ${ATTR_ENCODING} ${JSON.stringify(encoding)}`);
  } else {
    const compressed = Buffer.from(body, "base64");
    try {
      const options = { maxOutputLength: MAX_DECODED_BODY_BYTES };
      bytes =
        encoding === "br"
          ? await brotliDecompressAsync(compressed, options)
          : await gunzipAsync(compressed, options);
    } catch (cause) {
      if ((cause as { code?: unknown }).code === "ERR_BUFFER_TOO_LARGE") {
        throw new DecodeError(
          `message body decompresses to more than ${MAX_DECODED_BODY_BYTES} bytes`,
          { cause },
        );
      }
      throw new DecodeError(`message body does not decompress as ${encoding}`, { cause });
    }
  }
  const shape = scanJson(bytes, limits);
  return { bytes, shape: { ...shape, records: Math.max(1, shape.records) } };
}

/** Parses a body measured by {@link measureMessage}. Throws DecodeError. */
export function decodeMeasured(measured: MeasuredBody): Document[] {
  return decodeBody(measured.bytes.toString("utf8"));
}

/**
 * Decodes a received message into the documents to insert, whatever encoding its
 * `auditq-encoding` attribute names, within `limits`. Throws DecodeError.
 */
export async function decodeMessage(
  message: ReceivedMessageLike,
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
): Promise<Document[]> {
  return decodeMeasured(await measureMessage(message, limits));
}

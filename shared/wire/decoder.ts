// Decoding a received message into the documents to insert, whatever its encoding, within
// limits checked on its bytes before parsing; every failure is a DecodeError.
import type { Document } from "bson";
import { DecodeError } from "../util/errors.js";
import { decompressBody, decompressEnvelope, MAX_DECODED_BODY_BYTES } from "./body-codec.js";
import { parseRelaxedEjson } from "./ejson-parse.js";
import { ATTR_ENCODING, ENVELOPE_VERSION, MAX_RECORDS_PER_MESSAGE } from "./envelope.js";
import { type DecodeLimits, type JsonShape, scanJson } from "./json-bounds.js";
import {
  ATTR_PAYLOAD,
  PAYLOAD_BODY_VERSION,
  payloadDataType,
  payloadEncodingOf,
} from "./payload-attribute.js";
import type { MessageAttributeLike } from "./sqs-limits.js";
import { markedNumbers, type NumberRange, parseStreamMark, type StreamMark } from "./stream.js";

/** A decoded message: its records, and its producer's stream mark when it carries one. */
export interface DecodedEnvelope {
  records: Document[];
  /**
   * The envelope's `stream` key; undefined when absent or malformed (records are kept, unless
   * the mark names their numbers: then a malformed mark is a DecodeError).
   */
  stream?: StreamMark | undefined;
}

/**
 * Limits of {@link decodeMessage} when none are given. 10,000 records is the producer's own
 * per-message maximum; half a million values bounds what parsing one message allocates (see the
 * docs/sidecar.md, "Memory bound for any message") while real envelopes hold far fewer (about 25 values per record).
 */
export const DEFAULT_DECODE_LIMITS: Readonly<DecodeLimits> = Object.freeze({
  maxRecords: MAX_RECORDS_PER_MESSAGE,
  maxValues: 500_000,
});

/**
 * Decodes a message body into the documents to insert. Accepts an auditq envelope, or a plain
 * JSON object holding a single record (as another producer might send). Throws DecodeError.
 */
export function decodeBody(body: string): Document[] {
  return decodeEnvelope(body).records;
}

/**
 * Decodes a message body into its records and stream mark (see {@link decodeBody}: a plain
 * JSON object is one record and has no mark). Throws DecodeError.
 */
export function decodeEnvelope(body: string): DecodedEnvelope {
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
  if (!("auditq" in obj)) return { records: [obj] };
  if (obj.auditq === PAYLOAD_BODY_VERSION) {
    throw new DecodeError(
      `envelope version ${PAYLOAD_BODY_VERSION} carries its records in the ${ATTR_PAYLOAD} message attribute, which this message lacks`,
    );
  }
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
  const stream = parseStreamMark(obj.stream);
  const ns = markedNumbers(obj.stream, stream, records.length);
  if (ns && stream) numberRecords(records as Document[], stream.id, ns);
  return { records: records as Document[], stream };
}

/**
 * Writes `seq: {stream, n}` into each record, its last key as the producer once wrote it, from
 * the mark's `ns`. A record that carries its own `seq` as well contradicts the mark: DecodeError.
 */
function numberRecords(records: Document[], stream: string, ns: readonly NumberRange[]): void {
  let i = 0;
  for (const [from, to] of ns) {
    for (let n = from; n <= to; n++, i++) {
      const record = records[i] as Document;
      if (Object.hasOwn(record, "seq")) {
        throw new DecodeError(`envelope record ${i} carries its own seq beside the mark's ns`);
      }
      record.seq = { stream, n };
    }
  }
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
 * Decompresses a received message's records, from its `auditq-payload` attribute when it has
 * one, else from its body in whatever encoding its `auditq-encoding` attribute names (off the
 * event loop), and counts what it would parse into, refusing it with DecodeError
 * beyond `limits` or MAX_DECODED_BODY_BYTES. Nothing is parsed: a bomb is refused from its bytes.
 */
export async function measureMessage(
  message: ReceivedMessageLike,
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
): Promise<MeasuredBody> {
  const payload = message.MessageAttributes?.[ATTR_PAYLOAD];
  const encoding = message.MessageAttributes?.[ATTR_ENCODING]?.StringValue;
  const body = message.Body ?? "";
  let bytes: Buffer;
  if (payload !== undefined) {
    bytes = await decompressPayload(payload);
  } else if (encoding === undefined || encoding === "identity") {
    bytes = Buffer.from(body, "utf8");
    if (bytes.length > MAX_DECODED_BODY_BYTES) {
      throw new DecodeError(`message body is larger than ${MAX_DECODED_BODY_BYTES} bytes`);
    }
  } else if (encoding !== "br" && encoding !== "gzip" && encoding !== "zstd") {
    throw new DecodeError(`unsupported ${ATTR_ENCODING} ${JSON.stringify(encoding)}`);
  } else {
    bytes = await decompressBody(body, encoding);
  }
  const shape = scanJson(bytes, limits);
  return { bytes, shape: { ...shape, records: Math.max(1, shape.records) } };
}

/**
 * The envelope text of a binary payload attribute (see shared/wire/payload-attribute.ts): its data
 * type names the compression, its bytes are the compressed envelope. Throws DecodeError.
 */
async function decompressPayload(attribute: MessageAttributeLike): Promise<Buffer> {
  const encoding = payloadEncodingOf(attribute.DataType);
  const value = attribute.BinaryValue;
  if (encoding === undefined || value === undefined) {
    throw new DecodeError(
      `${ATTR_PAYLOAD} is not a ${payloadDataType("br")}, ${payloadDataType("gzip")} or ${payloadDataType("zstd")} attribute (data type ${JSON.stringify(attribute.DataType)})`,
    );
  }
  // A view, not a copy: the SDK hands a Uint8Array over the response's own memory.
  const compressed = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return decompressEnvelope(compressed, encoding, `${ATTR_PAYLOAD} attribute`);
}

/** Parses a body measured by {@link measureMessage}: records and stream mark. Throws DecodeError. */
export function decodeMeasured(measured: MeasuredBody): DecodedEnvelope {
  return decodeEnvelope(measured.bytes.toString("utf8"));
}

/**
 * Decodes a received message into the documents to insert, whatever encoding its
 * `auditq-encoding` attribute names, within `limits`. Throws DecodeError.
 */
export async function decodeMessage(
  message: ReceivedMessageLike,
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
): Promise<Document[]> {
  return decodeMeasured(await measureMessage(message, limits)).records;
}

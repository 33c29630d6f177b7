// The SQS message format: many records per message body, and the attributes that name it.
import type { MessageAttributeLike } from "./sqs-limits.js";
import { type StreamMark, streamMarkJson } from "./stream.js";

/**
 * Version of the envelope format. A message body is
 * `{"auditq":1,"n":<count>,"records":[<record>, ...]}` where each record is relaxed Extended
 * JSON and `n` (optional when decoding) is the number of records, checked on decode. An
 * optional `"stream":{...}` key after the records carries the producer's stream mark
 * (shared/wire/stream.ts); a control message has `"n":0,"records":[]` and only the mark.
 */
export const ENVELOPE_VERSION = 1;

/**
 * Records one message holds at most, whatever their size: the producer never packs more, and the
 * sidecar's `maxRecordsPerMessage` defaults to it.
 */
export const MAX_RECORDS_PER_MESSAGE = 10_000;

/** Message attribute naming the envelope version (`"1"`). */
export const ATTR_FORMAT = "auditq-format";

/**
 * Message attribute naming how the body is encoded. Absent (or `identity`) means plain JSON
 * text; `br`, `gzip` and `zstd` mean the envelope text compressed so, then base64-encoded.
 * Sidecars that predate `zstd` know `br` and `gzip` only, and quarantine a `zstd` message.
 */
export const ATTR_ENCODING = "auditq-encoding";

/** How a message body is encoded; see {@link ATTR_ENCODING}. */
export type BodyEncoding = "identity" | "br" | "gzip" | "zstd";

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
  zstd: { ...ENVELOPE_ATTRIBUTES, [ATTR_ENCODING]: { DataType: "String", StringValue: "zstd" } },
};

/** The message attributes of a message whose body is encoded with `encoding`. */
export function envelopeAttributes(encoding: BodyEncoding) {
  return ATTRIBUTES_BY_ENCODING[encoding] as Record<
    string,
    { DataType: string; StringValue: string }
  >;
}

/**
 * Joins records made by {@link serializeRecord} into one message body, with the producer's
 * stream mark when given (at most MAX_STREAM_MARK_BYTES more).
 */
export function envelopeBody(serializedRecords: readonly string[], stream?: StreamMark): string {
  return (
    ENVELOPE_PREFIX +
    serializedRecords.length +
    ENVELOPE_RECORDS +
    serializedRecords.join(",") +
    (stream ? `],"stream":${streamMarkJson(stream)}}` : ENVELOPE_SUFFIX)
  );
}

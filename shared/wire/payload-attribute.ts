// The binary payload layout: the compressed envelope as raw bytes in a Binary message attribute,
// and a short text body that names it, instead of the same bytes as base64 text in the body.
//
// Why: SQS bodies are text, so a compressed body is base64, a third more bytes than the
// compression produced, and SQS bills every started 64 KiB of payload twice (on send and on
// receive). SQS counts a message attribute's name, data type and value toward the message size
// (API reference, MessageAttributeValue: "All parts of the message attribute, including Name,
// Type, and Value, are part of the message size restriction"), and a Binary value by its bytes:
// the AWS SDK serialises it as base64 on the wire (a blob), but AWS's own SQS Extended Client
// Library counts `binaryValue().asByteArray().length` when it decides whether a message fits
// (AmazonSQSExtendedClientUtil.getMsgAttributesSize), as does NServiceBus's SQS transport.
// AWS documents no other billing unit than "each 64 KB chunk of payload": we bill the bytes as
// the size limit counts them. fauxqs counts the base64 text instead and refuses a message near
// the limit; the producer then re-packs its records in two, as for any refused message. See
// docs/benchmarks.md ("SQS requests end to end").
import type { Compression } from "./body-codec.js";
import { ENVELOPE_VERSION } from "./envelope.js";

/** Message attribute carrying the compressed envelope as raw bytes. */
export const ATTR_PAYLOAD = "auditq-payload";

/**
 * Envelope version of the body of a message whose records are in {@link ATTR_PAYLOAD}:
 * `{"auditq":2,"n":<count>}`. A sidecar that predates the layout reads that body as an envelope
 * of an unknown version and quarantines the message, with a reason that says so.
 */
export const PAYLOAD_BODY_VERSION = ENVELOPE_VERSION + 1;

/** Compressions a payload attribute may carry, named in its data type (`Binary.br`). */
export type PayloadEncoding = Compression;

const DATA_TYPES: Record<PayloadEncoding, string> = {
  br: "Binary.br",
  gzip: "Binary.gzip",
  zstd: "Binary.zstd",
};

/** The attribute's data type: SQS's `Binary` with a custom label naming the compression. */
export function payloadDataType(encoding: PayloadEncoding): string {
  return DATA_TYPES[encoding];
}

/** The compression a payload attribute's data type names, or undefined when it names none. */
export function payloadEncodingOf(dataType: string | undefined): PayloadEncoding | undefined {
  if (dataType === DATA_TYPES.br) return "br";
  if (dataType === DATA_TYPES.gzip) return "gzip";
  if (dataType === DATA_TYPES.zstd) return "zstd";
  return undefined;
}

/** The body of a message whose `count` records are in the payload attribute. */
export function payloadBody(count: number): string {
  return `{"auditq":${PAYLOAD_BODY_VERSION},"n":${count}}`;
}

/** What the payload attribute adds to a message's size as SQS counts it: name, type, bytes. */
export function payloadAttributeBytes(encoding: PayloadEncoding, payloadBytes: number): number {
  return ATTR_PAYLOAD.length + DATA_TYPES[encoding].length + payloadBytes;
}

// The spool's frame format: writing a frame, and checking one found in a segment.
//
// A segment file `seg-<16-digit sequence>.aqs` is a sequence of frames
//   magic "AQS1" | u32 payload length | u32 CRC32 of payload | payload
// and a payload is
//   u8 layout (0 identity, 1 br, 2 gzip, 5 zstd: message body as UTF-8; 3 br, 4 gzip, 6 zstd:
//   the compressed bytes of a binary-payload message) | u32 record count | body or bytes.
// All integers are big-endian. Versions before the binary payload (layouts 3 and 4) or zstd
// (layouts 5 and 6) skip such frames as corrupt and count their records lost: see
// docs/operations.md, "Binary payload" and "zstd compression".
import { crc32 } from "node:zlib";
import {
  type BodyEncoding,
  envelopeAttributes,
  envelopeOverheadBytes,
} from "../../shared/wire/envelope.js";
import type { PayloadEncoding } from "../../shared/wire/payload-attribute.js";
import { messageBytes, SQS_MAX_MESSAGE_BYTES } from "../../shared/wire/sqs-limits.js";
import { MAX_STREAM_MARK_BYTES } from "../../shared/wire/stream.js";
import {
  type EncodedMessage,
  MAX_RECORD_BYTES,
  payloadMessage,
  payloadMessageBytes,
} from "../message/packer.js";
import { sqsSafeJson } from "../message/sqs-text.js";

const MAGIC = 0x41515331; // "AQS1"
export const HEADER_BYTES = 12;
const PAYLOAD_HEADER_BYTES = 5;

/** A frame's layout, by its number: the encoding, and whether the bytes are a binary payload. */
const LAYOUTS: readonly { encoding: BodyEncoding; payload: boolean }[] = [
  { encoding: "identity", payload: false },
  { encoding: "br", payload: false },
  { encoding: "gzip", payload: false },
  { encoding: "br", payload: true },
  { encoding: "gzip", payload: true },
  { encoding: "zstd", payload: false },
  { encoding: "zstd", payload: true },
];

/**
 * The longest frame, header included. A body is one SQS message at most, or (in the records
 * `durability: "disk"` logs) one record alone in its envelope with the stream's mark naming its
 * number, which the batcher refuses beyond MAX_RECORD_BYTES. A header claiming more is corrupt:
 * a scan never reads further for it.
 */
export const MAX_FRAME_BYTES =
  HEADER_BYTES +
  PAYLOAD_HEADER_BYTES +
  Math.max(
    SQS_MAX_MESSAGE_BYTES,
    MAX_RECORD_BYTES + envelopeOverheadBytes(1) + MAX_STREAM_MARK_BYTES,
  );
const MAX_PAYLOAD_BYTES = MAX_FRAME_BYTES - HEADER_BYTES;

function layoutOf(env: EncodedMessage): number {
  const payload = env.payload !== undefined;
  return LAYOUTS.findIndex((l) => l.encoding === env.encoding && l.payload === payload);
}

/** The body encoding of a body layout (undefined for a binary-payload one). */
function bodyEncodingOfLayout(layout: number): BodyEncoding | undefined {
  const l = LAYOUTS[layout];
  return l && !l.payload ? l.encoding : undefined;
}

/** The compression of a binary-payload layout, undefined for a body layout. */
function payloadEncodingOfLayout(layout: number): PayloadEncoding | undefined {
  const l = LAYOUTS[layout];
  return l?.payload ? (l.encoding as PayloadEncoding) : undefined;
}

/** A valid frame found in a segment. */
export interface FoundFrame {
  offset: number;
  /** Header and payload. */
  length: number;
  records: number;
  /** Size of its message as SQS counts it. */
  bytes: number;
}

/** A region of a segment that holds no valid frame (torn by a crash, or corrupted). */
export interface SkippedRegion {
  offset: number;
  bytes: number;
  /** Records the first frame of the region claimed to hold (1 when its header is unreadable). */
  records: number;
}

export function frame(env: EncodedMessage): Buffer {
  const body = env.payload ?? Buffer.from(env.body, "utf8");
  if (PAYLOAD_HEADER_BYTES + body.length > MAX_PAYLOAD_BYTES) {
    // Never written: a scan would take it for garbage.
    throw new Error(`a message of ${body.length} bytes is longer than a spool frame may be`);
  }
  const payload = Buffer.alloc(PAYLOAD_HEADER_BYTES + body.length);
  payload.writeUInt8(layoutOf(env), 0);
  payload.writeUInt32BE(env.records, 1);
  body.copy(payload, PAYLOAD_HEADER_BYTES);
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32BE(MAGIC, 0);
  header.writeUInt32BE(payload.length, 4);
  header.writeUInt32BE(crc32(payload), 8);
  return Buffer.concat([header, payload]);
}

/** The frame at `offset` of `data` when it is whole and its checksum holds, else undefined. */
export function validFrameAt(data: Buffer, offset: number): FoundFrame | undefined {
  const rest = data.length - offset;
  if (rest < HEADER_BYTES || data.readUInt32BE(offset) !== MAGIC) return undefined;
  const length = data.readUInt32BE(offset + 4);
  if (length < PAYLOAD_HEADER_BYTES || length > MAX_PAYLOAD_BYTES) return undefined;
  if (length > rest - HEADER_BYTES) return undefined;
  const payload = data.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + length);
  if (crc32(payload) !== data.readUInt32BE(offset + 8)) return undefined;
  const layout = payload.readUInt8(0);
  if (layout >= LAYOUTS.length) return undefined;
  const records = payload.readUInt32BE(1);
  const dataBytes = length - PAYLOAD_HEADER_BYTES;
  const payloadEncoding = payloadEncodingOfLayout(layout);
  return {
    offset,
    length: HEADER_BYTES + length,
    records,
    bytes:
      payloadEncoding === undefined
        ? dataBytes +
          messageBytes("", envelopeAttributes(bodyEncodingOfLayout(layout) as BodyEncoding))
        : payloadMessageBytes(payloadEncoding, records, dataBytes),
  };
}

/**
 * Whether `data`, which a longer read of the segment would extend, ends too soon after `offset`
 * to tell whether a valid frame starts there (and, if none does, how many records it claims).
 */
export function undecidedAt(data: Buffer, offset: number): boolean {
  const rest = data.length - offset;
  if (rest < HEADER_BYTES + PAYLOAD_HEADER_BYTES) return true;
  if (data.readUInt32BE(offset) !== MAGIC) return false;
  const length = data.readUInt32BE(offset + 4);
  return length <= MAX_PAYLOAD_BYTES && HEADER_BYTES + length > rest;
}

/** Records the frame header at `offset` claims, for counting what a corrupt region lost. */
export function claimedRecords(data: Buffer, offset: number): number {
  if (data.length - offset < HEADER_BYTES + PAYLOAD_HEADER_BYTES) return 1;
  if (data.readUInt32BE(offset) !== MAGIC) return 1;
  const claimed = data.readUInt32BE(offset + HEADER_BYTES + 1);
  return claimed > 0 && claimed <= 1_000_000 ? claimed : 1;
}

/** The message of a frame read back; throws when it does not check out. */
export function unframe(buf: Buffer): EncodedMessage {
  const found = validFrameAt(buf, 0);
  if (!found || found.length !== buf.length) {
    throw new Error("spool frame does not check out (length, magic or CRC)");
  }
  const payload = buf.subarray(HEADER_BYTES);
  const layout = payload.readUInt8(0);
  const payloadEncoding = payloadEncodingOfLayout(layout);
  if (payloadEncoding !== undefined) {
    // A copy: the segment's buffer is not kept alive by one message.
    const bytes = Buffer.from(payload.subarray(PAYLOAD_HEADER_BYTES));
    return payloadMessage(bytes, payloadEncoding, payload.readUInt32BE(1));
  }
  const encoding = bodyEncodingOfLayout(layout) as BodyEncoding;
  const text = payload.subarray(PAYLOAD_HEADER_BYTES).toString("utf8");
  // Segments written before bodies were escaped may hold characters SQS refuses.
  const body = encoding === "identity" ? sqsSafeJson(text) : text;
  const attributes = envelopeAttributes(encoding);
  return {
    body,
    encoding,
    attributes,
    records: payload.readUInt32BE(1),
    bytes: messageBytes(body, attributes),
  };
}

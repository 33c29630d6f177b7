// Packing: records into size-limited (compressed) SQS messages, messages into batch calls.

import { compressEnvelope } from "../../shared/wire/body-codec.js";
import {
  type BodyEncoding,
  envelopeAttributes,
  envelopeBody,
  envelopeOverheadBytes,
  MAX_RECORDS_PER_MESSAGE,
} from "../../shared/wire/envelope.js";
import {
  type PayloadEncoding,
  payloadAttributeBytes,
  payloadBody,
} from "../../shared/wire/payload-attribute.js";
import { messageBytes, SQS_MAX_BATCH_ENTRIES } from "../../shared/wire/sqs-limits.js";
import { MAX_STREAM_MARK_BYTES, type StreamMark } from "../../shared/wire/stream.js";
import type { ProducerStream } from "../batcher/stream.js";
import { markedBody, seqOf } from "./numbering.js";

/** A record already serialized for an envelope. */
export interface Item {
  json: string;
  /** UTF-8 length of `json`. */
  bytes: number;
  /** Its number in this producer's stream (`seq.n`), when it has one. */
  n?: number | undefined;
  /** `json` ends with its own `seq` (spooled by an earlier producer, or of another stream). */
  carriesSeq?: boolean | undefined;
}

/** One SQS message, encoded and ready to send or spool. */
export interface EncodedMessage {
  body: string;
  encoding: BodyEncoding;
  /** Its string attributes; the payload attribute, when it has one, is made from `payload`. */
  attributes: Record<string, { DataType: string; StringValue: string }>;
  /**
   * The compressed envelope, sent as raw bytes in the `auditq-payload` attribute (`binaryPayload`);
   * `body` then only names it. Absent: the records are in `body`.
   */
  payload?: Buffer | undefined;
  /** Records it holds. */
  records: number;
  /** The stream numbers of its records, where known: what a drop of the message states lost. */
  seq?: readonly (number | undefined)[] | undefined;
  /** Size as SQS counts it: body plus attributes (the payload's bytes included), UTF-8. */
  bytes: number;
}

export interface PackerLimits {
  maxMessageBytes: number;
  /** Total of one SendMessageBatch call. */
  maxBatchBytes: number;
  /** How bodies are encoded when that makes them smaller; `identity`: never compressed. */
  compression: BodyEncoding;
  /** Records per message at most, whatever their size. */
  maxRecordsPerMessage: number;
  /** Compressed envelopes go as raw bytes in a binary attribute, not base64 in the body. */
  binaryPayload?: boolean | undefined;
  /** Every message carries this stream's mark; MAX_STREAM_MARK_BYTES are kept free for it. */
  stream?: Pick<ProducerStream, "id" | "hwm" | "mark" | "restate"> | undefined;
}

/** EncodedMessage text smaller than this goes uncompressed: base64 and the attribute eat the gain. */
const COMPRESS_MIN_BYTES = 1024;

/**
 * Most raw bytes one compressed message may take. Joining and copying the envelope text runs on
 * the event loop; 512 KiB keeps that well under a millisecond, and billing does not suffer:
 * SQS bills the call's total payload, and a call carries several such messages.
 */
const MAX_RAW_MESSAGE_BYTES = 512 * 1024;

/** A single record larger than this is refused at once, compressed or not. */
export const MAX_RECORD_BYTES = 4 * 1024 * 1024;

const SAFETY = 0.92;
const RATIO_WEIGHT = 0.3;

/** Sum of sizes of messages, as SendMessageBatch's total limit counts. */
export function totalBytes(messages: readonly { bytes: number }[]): number {
  let n = 0;
  for (const m of messages) n += m.bytes;
  return n;
}

/**
 * How many messages from the head of `queue` go into the next SendMessageBatch call: at most
 * 10, and within `maxBatchBytes` in total (at least one, which alone always fits).
 */
export function batchSize(queue: readonly { bytes: number }[], maxBatchBytes: number): number {
  let bytes = 0;
  let n = 0;
  for (const m of queue) {
    if (n === SQS_MAX_BATCH_ENTRIES || (n > 0 && bytes + m.bytes > maxBatchBytes)) break;
    bytes += m.bytes;
    n++;
  }
  return n;
}

/**
 * Cuts records into messages. With compression the output size is unknown until compressed, so
 * the packer takes records up to a raw budget derived from the compression ratio it observed so
 * far, and splits a message in two whenever it still comes out too large.
 */
export class Packer {
  private readonly limits: PackerLimits;
  /** Observed encoded/raw size ratio (moving average); starts pessimistic. */
  private ratio = 0.35;

  /** What the attributes add to a message's size, plain and encoded (fixed per packer). */
  private readonly identityAttributeBytes: number;
  private readonly encodedAttributeBytes: number;

  constructor(limits: PackerLimits) {
    this.limits = limits;
    // The stream mark is counted as part of the envelope's fixed overhead, at its largest.
    const mark = limits.stream ? MAX_STREAM_MARK_BYTES : 0;
    this.identityAttributeBytes = messageBytes("", envelopeAttributes("identity")) + mark;
    this.encodedAttributeBytes =
      limits.compression === "identity"
        ? this.identityAttributeBytes
        : (limits.binaryPayload
            ? payloadMessageBytes(limits.compression, MAX_RECORDS_PER_MESSAGE, 0)
            : messageBytes("", envelopeAttributes(limits.compression))) + mark;
  }

  /** The stream whose mark every message carries, if any. */
  get stream(): Pick<ProducerStream, "id" | "hwm"> | undefined {
    return this.limits.stream;
  }

  /**
   * Raw envelope bytes worth one full message: once buffered, a message is encoded without
   * waiting for lingerMs. `whole`: the budget of a message that goes out alone, as large as a
   * message may be.
   */
  rawBudget(whole = false): number {
    const { maxMessageBytes, compression } = this.limits;
    if (compression === "identity") return maxMessageBytes - this.identityAttributeBytes;
    // Compressed messages aim at an eighth of a call: a call then fills to within a few percent
    // of its byte limit, where SQS's 64 KiB billing chunks are used best. What lingerMs sends
    // (a part-filled call) goes as one message instead: the sidecar then receives it in one
    // call and deletes one message, where an eighth each took several receives.
    const eighth = Math.min(maxMessageBytes, Math.floor(this.limits.maxBatchBytes / 8));
    const target = whole ? maxMessageBytes : eighth;
    const room = target - this.encodedAttributeBytes;
    return Math.min(MAX_RAW_MESSAGE_BYTES, Math.floor((room / this.ratio) * SAFETY));
  }

  /** Whether one record alone can never fit in a message (checked cheaply at add()). */
  surelyTooLarge(item: Item): boolean {
    const identityBytes = item.bytes + envelopeOverheadBytes(1) + this.identityAttributeBytes;
    if (this.limits.compression === "identity") return identityBytes > this.limits.maxMessageBytes;
    return item.bytes > MAX_RECORD_BYTES;
  }

  /**
   * Number of records from `items[from]` on that go into the next message (at least 1);
   * `whole` as in {@link rawBudget}.
   */
  groupSize(items: readonly Item[], from: number, whole = false): number {
    const budget = this.rawBudget(whole);
    const exact = this.limits.compression === "identity";
    let raw = 0;
    let n = 0;
    for (let i = from; i < items.length && n < this.limits.maxRecordsPerMessage; i++) {
      const next = raw + (items[i] as Item).bytes;
      // Without compression the limit is exact; the envelope overhead grows with the count.
      const size = exact ? next + envelopeOverheadBytes(n + 1) : next;
      if (n > 0 && size > budget) break;
      raw = next;
      n++;
    }
    return n;
  }

  /**
   * Encodes records into one message, or several when compressed output exceeds the limit.
   * Records that cannot fit even alone come back in `tooLarge`.
   */
  async encode(items: readonly Item[]): Promise<{ envelopes: EncodedMessage[]; tooLarge: Item[] }> {
    const stream = this.limits.stream;
    const mark = stream?.mark();
    const carried = { lost: false };
    const out = await this.encodeMarked(items, mark, carried);
    if (mark && !carried.lost) stream?.restate(mark);
    return out;
  }

  /** {@link encode} with every message carrying `mark` (a split message carries it in both). */
  private async encodeMarked(
    items: readonly Item[],
    mark: StreamMark | undefined,
    carried: { lost: boolean },
  ): Promise<{ envelopes: EncodedMessage[]; tooLarge: Item[] }> {
    const { maxMessageBytes, compression } = this.limits;
    const text = markedBody(items, mark);
    const rawBytes = Buffer.byteLength(text, "utf8");
    let envelope = plain(text, rawBytes, items.length);
    if (compression !== "identity" && rawBytes >= COMPRESS_MIN_BYTES) {
      const compressed = await compressEnvelope(text, compression);
      const encoded = this.limits.binaryPayload
        ? payloadMessage(compressed, compression, items.length)
        : base64Message(compressed, compression, items.length);
      this.ratio = this.ratio * (1 - RATIO_WEIGHT) + (encoded.bytes / rawBytes) * RATIO_WEIGHT;
      if (encoded.bytes < envelope.bytes) envelope = encoded;
    }
    if (envelope.bytes <= maxMessageBytes) {
      envelope.seq = seqOf(items);
      if (mark?.lost) carried.lost = true;
      return { envelopes: [envelope], tooLarge: [] };
    }
    if (items.length === 1) {
      // The room kept for a mark has none for its losses: they wait for the next message.
      if (mark?.lost) return this.encodeMarked(items, { id: mark.id, hwm: mark.hwm }, carried);
      return { envelopes: [], tooLarge: [...items] };
    }
    const half = Math.ceil(items.length / 2);
    const [a, b] = await Promise.all([
      this.encodeMarked(items.slice(0, half), mark, carried),
      this.encodeMarked(items.slice(half), mark, carried),
    ]);
    return {
      envelopes: a.envelopes.concat(b.envelopes),
      tooLarge: a.tooLarge.concat(b.tooLarge),
    };
  }
}

/** Records in one uncompressed message, built at once (no size check: the spool's log). */
export function plainMessage(items: readonly Item[], stream?: Packer["stream"]): EncodedMessage {
  const text = markedBody(items, stream && { id: stream.id, hwm: stream.hwm });
  const env = plain(text, Buffer.byteLength(text, "utf8"), items.length);
  env.seq = seqOf(items);
  return env;
}

/** A message of no record that carries only a stream mark (`"n":0,"records":[]`). */
export function controlMessage(mark: StreamMark): EncodedMessage {
  const text = envelopeBody([], mark);
  return plain(text, Buffer.byteLength(text, "utf8"), 0);
}

function plain(text: string, rawBytes: number, records: number): EncodedMessage {
  const attributes = envelopeAttributes("identity");
  return {
    body: text,
    encoding: "identity",
    attributes,
    records,
    bytes: rawBytes + messageBytes("", attributes),
  };
}

function base64Message(
  compressed: Buffer,
  encoding: PayloadEncoding,
  records: number,
): EncodedMessage {
  const body = compressed.toString("base64");
  const attributes = envelopeAttributes(encoding);
  return { body, encoding, attributes, records, bytes: messageBytes(body, attributes) };
}

/** Size of a message of `records` whose payload attribute holds `payloadBytes`, as SQS counts. */
export function payloadMessageBytes(
  encoding: PayloadEncoding,
  records: number,
  payloadBytes: number,
): number {
  return (
    messageBytes(payloadBody(records), envelopeAttributes("identity")) +
    payloadAttributeBytes(encoding, payloadBytes)
  );
}

/**
 * A message whose compressed records travel as raw bytes in the payload attribute. Its string
 * attributes are those of a plain body (no `auditq-encoding`): a sidecar that predates the
 * layout then reads the short body as an envelope of an unknown version, and says so.
 */
export function payloadMessage(
  compressed: Buffer,
  encoding: PayloadEncoding,
  records: number,
): EncodedMessage {
  return {
    body: payloadBody(records),
    encoding,
    attributes: envelopeAttributes("identity"),
    payload: compressed,
    records,
    bytes: payloadMessageBytes(encoding, records, compressed.length),
  };
}

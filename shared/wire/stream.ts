// A producer stream, as the envelope's optional `stream` key carries it (docs/design/schema-and-bins.md):
// its id, its high-water mark, the numbers of the message's records, its clean end, and the
// losses its producer states.
import { DecodeError } from "../util/errors.js";

/** Why a producer gave up records it had numbered. */
export type LossReason = "buffer-full" | "too-large" | "spool-lost" | "close-timeout";

/** Records `from`..`to` (inclusive) of a stream that its producer gave up, and why. */
export interface LossRange {
  from: number;
  to: number;
  reason: LossReason;
}

/** Records `from`..`to` (inclusive) of a stream, as a mark's `ns` lists them. */
export type NumberRange = [from: number, to: number];

/**
 * The envelope's `stream` key: `{"id":"<22 chars>","hwm":1042,"ns":[[1001,1042]]}` plus `end`
 * or `lost` when they apply.
 */
export interface StreamMark {
  /** 22 characters: base64url of 16 random bytes, made when the stream starts. */
  id: string;
  /** The largest `n` the stream has given so far (not the last record of this message). */
  hwm: number;
  /**
   * The `n` of the message's records in record order, as ascending ranges (one in practice):
   * the sidecar writes `seq: {stream: id, n}` into each record from it. Absent: the records
   * carry their own `seq` (earlier producers, or records numbered in more than
   * MAX_N_RANGES_PER_MESSAGE ranges), or none.
   */
  ns?: NumberRange[];
  /** Sent once by a clean `close()`: the stream has no `n` above `hwm`. */
  end?: true;
  /** A loss statement. */
  lost?: LossRange[];
}

/** Every loss reason, for checking a decoded mark. */
const LOSS_REASONS: ReadonlySet<string> = new Set<LossReason>([
  "buffer-full",
  "too-large",
  "spool-lost",
  "close-timeout",
]);

/** Loss ranges one message carries at most: keeps the mark within {@link MAX_STREAM_MARK_BYTES}. */
export const MAX_LOST_RANGES_PER_MESSAGE = 20;

/**
 * Ranges a mark's `ns` holds at most. The producer sends records numbered in more ranges (only
 * when drops in between cut them up) with their own `seq`; the sidecar refuses a longer `ns`
 * before reading one of its ranges.
 */
export const MAX_N_RANGES_PER_MESSAGE = 20;

/**
 * Bytes the `,"stream":{...}` key takes in an envelope without `end` and `lost` and with one
 * range in `ns`, at most (16-digit numbers). The producer keeps this much room in every message;
 * a loss statement goes along only where it still fits, else on a later message or a control
 * message. A message of one record has one range; more ranges are checked when encoded.
 */
export const MAX_STREAM_MARK_BYTES =
  `,"stream":{"id":"${"x".repeat(22)}","hwm":${Number.MAX_SAFE_INTEGER},"ns":[[${Number.MAX_SAFE_INTEGER},${Number.MAX_SAFE_INTEGER}]]}`
    .length;

const STREAM_ID_RE = /^[A-Za-z0-9_-]{22}$/;

/** The envelope's `"stream":{...}` value as JSON text, keys in a fixed order. */
export function streamMarkJson(mark: StreamMark): string {
  let text = `{"id":"${mark.id}","hwm":${mark.hwm}`;
  if (mark.ns) text += `,"ns":${JSON.stringify(mark.ns)}`;
  if (mark.end) text += `,"end":true`;
  if (mark.lost && mark.lost.length > 0) text += `,"lost":${JSON.stringify(mark.lost)}`;
  return `${text}}`;
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * A decoded envelope's `stream` value as a StreamMark without its `ns` (see
 * {@link markedNumbers}), or undefined when it is missing or not one (a mark that does not
 * check out is ignored: the records are stored all the same).
 */
export function parseStreamMark(value: unknown): StreamMark | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.id !== "string" || !STREAM_ID_RE.test(v.id) || !isCount(v.hwm)) return undefined;
  const mark: StreamMark = { id: v.id, hwm: v.hwm };
  if (v.end === true) mark.end = true;
  if (v.lost !== undefined) {
    if (!Array.isArray(v.lost)) return undefined;
    const lost: LossRange[] = [];
    for (const r of v.lost as unknown[]) {
      const range = r as Record<string, unknown> | null;
      if (
        typeof range !== "object" ||
        range === null ||
        !isCount(range.from) ||
        !isCount(range.to) ||
        range.from < 1 ||
        range.to < range.from ||
        typeof range.reason !== "string" ||
        !LOSS_REASONS.has(range.reason)
      ) {
        return undefined;
      }
      lost.push({ from: range.from, to: range.to, reason: range.reason as LossReason });
    }
    if (lost.length > 0) mark.lost = lost;
  }
  return mark;
}

/**
 * The `ns` of a decoded envelope's `stream` value, checked against the `records` the envelope
 * holds and its parsed `mark`; undefined when the value names no `ns`. Throws DecodeError when it
 * names one that does not check out, so the message is held as malformed rather than its
 * records stored with wrong numbers or none: the mark itself invalid, more than
 * MAX_N_RANGES_PER_MESSAGE ranges (refused before any is read), a range that is not
 * `[from, to]` with 1 ≤ from ≤ to ≤ hwm, ranges overlapping or not ascending, or not exactly
 * one number per record.
 */
export function markedNumbers(
  value: unknown,
  mark: StreamMark | undefined,
  records: number,
): NumberRange[] | undefined {
  if (typeof value !== "object" || value === null || !Object.hasOwn(value, "ns")) {
    return undefined;
  }
  const ns = (value as { ns: unknown }).ns;
  if (!mark) throw new DecodeError("stream mark names its records' numbers but is not valid");
  if (!Array.isArray(ns)) throw new DecodeError("stream mark's ns is not an array");
  if (ns.length > MAX_N_RANGES_PER_MESSAGE) {
    throw new DecodeError(
      `stream mark names ${ns.length} ranges of record numbers, more than ${MAX_N_RANGES_PER_MESSAGE}`,
    );
  }
  let count = 0;
  let last = 0;
  for (const range of ns as unknown[]) {
    if (
      !Array.isArray(range) ||
      range.length !== 2 ||
      !isCount(range[0]) ||
      !isCount(range[1]) ||
      range[0] <= last ||
      range[1] < range[0] ||
      range[1] > mark.hwm
    ) {
      throw new DecodeError(
        "stream mark's ns must be ascending, non-overlapping [from, to] ranges within 1..hwm",
      );
    }
    count += range[1] - range[0] + 1;
    last = range[1];
    if (count > records) break;
  }
  if (count !== records) {
    throw new DecodeError(
      `stream mark names ${count > records ? "more" : count} record numbers for ${records} records`,
    );
  }
  return ns as NumberRange[];
}

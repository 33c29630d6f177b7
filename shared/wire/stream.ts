// A producer stream, as the envelope's optional `stream` key carries it (docs/design/schema-and-bins.md):
// its id, its high-water mark, its clean end, and the losses its producer states.

/** Why a producer gave up records it had numbered. */
export type LossReason = "buffer-full" | "too-large" | "spool-lost" | "close-timeout";

/** Records `from`..`to` (inclusive) of a stream that its producer gave up, and why. */
export interface LossRange {
  from: number;
  to: number;
  reason: LossReason;
}

/** The envelope's `stream` key: `{"id":"<22 chars>","hwm":1042}` plus `end` or `lost` when they apply. */
export interface StreamMark {
  /** 22 characters: base64url of 16 random bytes, made when the stream starts. */
  id: string;
  /** The largest `n` the stream has given so far (not the last record of this message). */
  hwm: number;
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
 * Bytes the `,"stream":{...}` key takes in an envelope without `end` and `lost`, at most (a
 * 16-digit `hwm`). The producer keeps this much room in every message; a loss statement goes
 * along only where it still fits, else on a later message or a control message.
 */
export const MAX_STREAM_MARK_BYTES =
  `,"stream":{"id":"${"x".repeat(22)}","hwm":${Number.MAX_SAFE_INTEGER}}`.length;

const STREAM_ID_RE = /^[A-Za-z0-9_-]{22}$/;

/** The envelope's `"stream":{...}` value as JSON text, keys in a fixed order. */
export function streamMarkJson(mark: StreamMark): string {
  let text = `{"id":"${mark.id}","hwm":${mark.hwm}`;
  if (mark.end) text += `,"end":true`;
  if (mark.lost && mark.lost.length > 0) text += `,"lost":${JSON.stringify(mark.lost)}`;
  return `${text}}`;
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * A decoded envelope's `stream` value as a StreamMark, or undefined when it is missing or not
 * one (a mark that does not check out is ignored: the records are stored all the same).
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

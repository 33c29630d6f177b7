// The producer's stream: its id, the number `n` given to each record, its high-water mark and
// the losses still to state (docs/proof.md, "Sequence numbers and loss statements").
import { randomBytes } from "node:crypto";
import {
  type LossRange,
  type LossReason,
  MAX_LOST_RANGES_PER_MESSAGE,
  type StreamMark,
} from "../../shared/wire/stream.js";

/** Records `from`..`to` of a stream (inclusive). */
export interface SeqRange {
  from: number;
  to: number;
}

/** A new stream id: 22 characters, base64url of 16 random bytes. */
function newStreamId(): string {
  return randomBytes(16).toString("base64url");
}

/** `ns` (ascending or not) as the fewest ranges, ascending. */
export function rangesOf(ns: readonly number[]): SeqRange[] {
  const sorted = [...ns].sort((a, b) => a - b);
  const out: SeqRange[] = [];
  for (const n of sorted) {
    const last = out[out.length - 1];
    if (last && n <= last.to + 1) last.to = Math.max(last.to, n);
    else out.push({ from: n, to: n });
  }
  return out;
}

/**
 * One producer stream. `next()` numbers a record (1, 2, 3, … no holes); `lose()` notes records
 * given up on; `mark()` is what the next message carries: the id, the high-water mark and the
 * losses not stated yet (at most MAX_LOST_RANGES_PER_MESSAGE per message, the rest on the next).
 */
export class ProducerStream {
  private streamId: string;
  private given: number;
  /** Losses not stated yet, merged per reason. */
  private pending: LossRange[] = [];
  /** Called when `n` passes `reservedUpTo` (durability "disk": see stream-file.ts). */
  private onPassed: ((n: number) => void) | undefined;
  private reservedUpTo = Number.POSITIVE_INFINITY;

  constructor(id: string = newStreamId(), given = 0) {
    this.streamId = id;
    this.given = given;
  }

  get id(): string {
    return this.streamId;
  }

  /** The largest `n` given so far. */
  get hwm(): number {
    return this.given;
  }

  /** Losses waiting to be stated. */
  get pendingLosses(): number {
    return this.pending.length;
  }

  /** Numbers the next record. */
  next(): number {
    const n = ++this.given;
    if (n > this.reservedUpTo) this.onPassed?.(n);
    return n;
  }

  /**
   * Continues a stream a previous process left on the same spool, with `lost` to state. Only
   * before the first record is numbered; returns false (and keeps this stream) after.
   */
  resume(id: string, given: number, lost: readonly LossRange[]): boolean {
    if (this.given > 0) return false;
    this.streamId = id;
    this.given = given;
    for (const r of lost) this.loseRange(r.from, r.to, r.reason);
    return true;
  }

  /** Calls `onPassed(n)` whenever `n` passes the reservation (moved by `reserved`). */
  watchReservation(upTo: number, onPassed: (n: number) => void): void {
    this.reservedUpTo = upTo;
    this.onPassed = onPassed;
  }

  /** The numbers up to `upTo` are durably reserved. */
  reserved(upTo: number): void {
    this.reservedUpTo = upTo;
  }

  /** Notes records `ns` as given up on for `reason`, to be stated on the next message. */
  lose(ns: readonly number[], reason: LossReason): void {
    for (const r of rangesOf(ns)) this.loseRange(r.from, r.to, reason);
  }

  private loseRange(from: number, to: number, reason: LossReason): void {
    for (const r of this.pending) {
      if (r.reason === reason && from <= r.to + 1 && to >= r.from - 1) {
        r.from = Math.min(r.from, from);
        r.to = Math.max(r.to, to);
        return;
      }
    }
    this.pending.push({ from, to, reason });
  }

  /** The mark of the next message; takes the losses it states (`end`: a clean close's last). */
  mark(end = false): StreamMark {
    const mark: StreamMark = { id: this.streamId, hwm: this.given };
    if (end) mark.end = true;
    if (this.pending.length > 0) {
      mark.lost = this.pending.splice(0, MAX_LOST_RANGES_PER_MESSAGE);
    }
    return mark;
  }

  /** Puts back losses a mark took whose message was never sent. */
  restate(mark: StreamMark): void {
    for (const r of mark.lost ?? []) this.loseRange(r.from, r.to, r.reason);
  }
}

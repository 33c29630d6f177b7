// Records received and decoded but not yet handed to a write, and the count of all records in hand.
import type { Document } from "mongodb";
import type { InHand } from "../settle/visibility.js";

/** One decoded record waiting for a bulk, with the message it came from. */
export interface PendingDoc {
  doc: Document;
  owner: InHand;
  index: number;
}

export class RecordBuffer {
  private pending: PendingDoc[] = [];
  private since = 0;
  private inHand = 0;
  private bytes = 0;

  /** `onInHandChange` hears every change of the in-hand count (gauge, wakeups). */
  constructor(private readonly onInHandChange: (inHand: number, delta: number) => void) {}

  /** Records waiting for a bulk. */
  get length(): number {
    return this.pending.length;
  }

  /** Records received and not yet settled: waiting, or in a write in flight. */
  get recordsInHand(): number {
    return this.inHand;
  }

  /** Decoded bytes of the messages whose records are in hand. */
  get bytesInHand(): number {
    return this.bytes;
  }

  /** How long the oldest waiting record has waited for a bulk to fill. */
  ageMs(now = Date.now()): number {
    return now - this.since;
  }

  /**
   * Queues a message's records for writing; they count as in hand until settled, and so do its
   * decoded bytes (`owner.decodedBytes`) until its last record is settled.
   */
  add(owner: InHand, docs: readonly Document[]): void {
    if (this.pending.length === 0) this.since = Date.now();
    this.bytes += owner.decodedBytes;
    for (let index = 0; index < docs.length; index++) {
      this.pending.push({ doc: docs[index] as Document, owner, index });
    }
    this.adjust(docs.length);
  }

  /** The next bulk, left in the buffer (so that a stop meanwhile still sees it). */
  peek(n: number): PendingDoc[] {
    return this.pending.slice(0, n);
  }

  /** Removes the first `n` waiting records: they belong to a write now. */
  take(n: number): void {
    this.pending = this.pending.slice(n);
    if (this.pending.length > 0) this.since = Date.now();
  }

  /**
   * `n` records are settled (stored, quarantined or released): no longer in hand; nor are the
   * `bytes` of the messages they completed.
   */
  settled(n: number, bytes = 0): void {
    this.bytes -= bytes;
    this.adjust(-n);
  }

  /** Removes and returns every waiting record. */
  takeAll(): PendingDoc[] {
    const all = this.pending;
    this.pending = [];
    return all;
  }

  /** Forgets every waiting record (their messages are being released). */
  clear(): void {
    this.pending = [];
  }

  private adjust(delta: number): void {
    this.inHand += delta;
    this.onInHandChange(this.inHand, delta);
  }
}

// Records received and decoded but not yet handed to a write, and the count of all held records.
import type { Document } from "mongodb";
import type { HeldMessage } from "./held-message.js";

/** One decoded record waiting for a bulk, with the message it came from. */
export interface PendingDoc {
  doc: Document;
  owner: HeldMessage;
  index: number;
}

export class RecordBuffer {
  private pending: PendingDoc[] = [];
  private since = 0;
  private records = 0;
  private bytes = 0;

  /** `onHeldChange` hears every change of the held records' count (gauge, wakeups). */
  constructor(private readonly onHeldChange: (held: number, delta: number) => void) {}

  /** Records waiting for a bulk. */
  get length(): number {
    return this.pending.length;
  }

  /** Records received and not yet settled: waiting, or in a write in flight. */
  get heldRecords(): number {
    return this.records;
  }

  /** Decoded bytes of the messages whose records are held. */
  get heldBytes(): number {
    return this.bytes;
  }

  /** How long the oldest waiting record has waited for a bulk to fill. */
  ageMs(now = Date.now()): number {
    return now - this.since;
  }

  /**
   * Queues a message's records for writing; they count as held until settled, and so do its
   * decoded bytes (`owner.decodedBytes`) until its last record is settled.
   */
  add(owner: HeldMessage, docs: readonly Document[]): void {
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
   * `n` records are settled (stored, quarantined or their message released): no longer held;
   * nor are the `bytes` of the messages they completed.
   */
  free(n: number, bytes = 0): void {
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
    this.records += delta;
    this.onHeldChange(this.records, delta);
  }
}

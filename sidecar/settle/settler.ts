// Settles written bulks: deletes each message whose records are all stored, else releases it.
// A message with a record of unknown outcome is released to come back later; the calls are shared
// across bulks.
import type { Message } from "@aws-sdk/client-sqs";
import type { StreamMark } from "../../shared/wire/stream.js";
import type { HeldMessage } from "../receive/held-message.js";
import type { PendingDoc, RecordBuffer } from "../receive/record-buffer.js";
import type { SettleBatcher } from "./settle-batcher.js";
import type { StreamBook } from "./streams.js";
import type { VisibilityKeeper } from "./visibility.js";

/** Where a message whose records are all stored goes before its delete (the digests). */
export interface DeleteGate {
  /** Takes `owner`; later calls `settler.confirmed(owner, ok)`. */
  submit(owner: HeldMessage): void;
}

export class Settler {
  private gate: DeleteGate | undefined;
  /** Where the stream marks of settled messages are written (set once the write stage exists). */
  streams: StreamBook | undefined;
  /** Stream marks being written, each followed by its message's delete or release. */
  private readonly noting = new Set<Promise<void>>();

  constructor(
    private readonly buffer: RecordBuffer,
    private readonly keeper: VisibilityKeeper,
    private readonly batcher: SettleBatcher,
    /** Visibility delay of a released message: back soon, but not at once (0 when stopping). */
    private readonly releaseDelaySeconds: () => number,
  ) {}

  /**
   * Counts the bulk's records as settled; deletes or releases messages with none left. A
   * released message comes back after `releaseDelaySeconds` (default: the backoff delay).
   */
  settle(bulk: readonly PendingDoc[], releaseDelaySeconds = this.releaseDelaySeconds()): void {
    const complete = new Set<HeldMessage>();
    let freedBytes = 0;
    for (const p of bulk) {
      p.owner.pending--;
      if (p.owner.pending === 0) {
        complete.add(p.owner);
        freedBytes += p.owner.decodedBytes;
      }
    }
    this.buffer.free(bulk.length, freedBytes);
    for (const owner of complete) {
      // Still hidden by heartbeats while its digests are written.
      if (!owner.failed && this.gate && owner.stored) {
        this.gate.submit(owner);
        continue;
      }
      this.keeper.remove(owner);
      if (owner.failed) this.batcher.release(owner.message, releaseDelaySeconds);
      else this.deleteMarked(owner.message, owner.stream, releaseDelaySeconds);
    }
  }

  /** Messages whose records are all stored pass `gate` before their delete. */
  useDeleteGate(gate: DeleteGate): void {
    this.gate = gate;
  }

  /**
   * `gate` is done with `owner`: when `ok`, delete it (once its stream mark is written too), else
   * release it to come back.
   */
  confirmed(owner: HeldMessage, ok: boolean): void {
    this.keeper.remove(owner);
    if (ok) this.deleteMarked(owner.message, owner.stream, this.releaseDelaySeconds());
    else this.batcher.release(owner.message, this.releaseDelaySeconds());
  }

  /** Deletes messages with nothing left to write (no records, or quarantined whole). */
  settleEmpty(messages: readonly { message: Message; stream?: StreamMark | undefined }[]): void {
    for (const m of messages) this.deleteMarked(m.message, m.stream, this.releaseDelaySeconds());
  }

  /** Deletes a stored message once its stream mark is written; releases it if that fails. */
  private deleteMarked(
    message: Message,
    stream: StreamMark | undefined,
    releaseDelaySeconds: number,
  ): void {
    if (!stream || !this.streams) {
      this.batcher.delete(message);
      return;
    }
    const noting = this.streams.note(stream).then((written) => {
      if (written) this.batcher.delete(message);
      else this.batcher.release(message, releaseDelaySeconds);
    });
    this.noting.add(noting);
    void noting.finally(() => this.noting.delete(noting));
  }

  /**
   * Sends every call still waiting, once the stream marks being written are; resolves when they
   * are done (stop() calls it).
   */
  async sendPending(): Promise<void> {
    await Promise.all(this.noting);
    return this.batcher.sendPending();
  }
}

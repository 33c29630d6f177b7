// Settles written bulks: deletes each message whose records are all stored, else releases it.
// A message with a record of unknown outcome is released to come back later; the calls are shared
// across bulks.
import type { Message } from "@aws-sdk/client-sqs";
import type { HeldMessage } from "../receive/held-message.js";
import type { PendingDoc, RecordBuffer } from "../receive/record-buffer.js";
import type { SettleBatcher } from "./settle-batcher.js";
import type { VisibilityKeeper } from "./visibility.js";

/** Where a message whose records are all stored goes before its delete (the digests). */
export interface DeleteGate {
  /** Takes `owner`; later calls `settler.confirmed(owner, ok)`. */
  submit(owner: HeldMessage): void;
}

export class Settler {
  private gate: DeleteGate | undefined;

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
      else this.batcher.delete(owner.message);
    }
  }

  /** Messages whose records are all stored pass `gate` before their delete. */
  useDeleteGate(gate: DeleteGate): void {
    this.gate = gate;
  }

  /** `gate` is done with `owner`: delete it when `ok`, else release it to come back. */
  confirmed(owner: HeldMessage, ok: boolean): void {
    this.keeper.remove(owner);
    if (ok) this.batcher.delete(owner.message);
    else this.batcher.release(owner.message, this.releaseDelaySeconds());
  }

  /** Deletes messages with nothing left to write (no records, or quarantined whole). */
  settleEmpty(messages: readonly Message[]): void {
    for (const message of messages) this.batcher.delete(message);
  }

  /** Sends every call still waiting; resolves when they are done (stop() calls it). */
  sendPending(): Promise<void> {
    return this.batcher.sendPending();
  }
}

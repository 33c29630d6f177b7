// Settles written bulks: a message whose records are all stored is deleted, one with a record of
// unknown outcome is released to come back later.
import type { SidecarMetrics } from "./metrics.js";
import type { PendingDoc, RecordBuffer } from "./record-buffer.js";
import type { SqsOps } from "./sqs-ops.js";
import type { InHand, VisibilityKeeper } from "./visibility.js";

export class Settler {
  constructor(
    private readonly buffer: RecordBuffer,
    private readonly keeper: VisibilityKeeper,
    private readonly sqsOps: SqsOps,
    private readonly metrics: SidecarMetrics,
    /** Visibility delay of a released message: back soon, but not at once (0 when stopping). */
    private readonly releaseDelaySeconds: () => number,
  ) {}

  /** Counts the bulk's records as settled; deletes or releases messages with none left. */
  async settle(bulk: readonly PendingDoc[]): Promise<void> {
    const done = new Set<InHand>();
    let freedBytes = 0;
    for (const p of bulk) {
      p.owner.pending--;
      if (p.owner.pending === 0) {
        done.add(p.owner);
        freedBytes += p.owner.decodedBytes;
      }
    }
    this.buffer.settled(bulk.length, freedBytes);
    const toDelete: InHand[] = [];
    const toRelease: InHand[] = [];
    for (const owner of done) {
      this.keeper.remove(owner);
      (owner.failed ? toRelease : toDelete).push(owner);
    }
    if (toDelete.length > 0) {
      this.metrics.messagesDeleted.inc(
        await this.sqsOps.deleteMessages(toDelete.map((h) => h.message)),
      );
    }
    if (toRelease.length > 0) {
      this.metrics.messagesReleased.inc(
        await this.keeper.release(toRelease, this.releaseDelaySeconds()),
      );
    }
  }
}

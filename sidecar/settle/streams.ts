// The `<collection>_streams` bookkeeping: after a message's records are stored, and before the
// message is deleted, its producer stream mark is written (docs/proof.md).
import type { Collection, Document } from "mongodb";
import type { Logger } from "../../shared/util/logger.js";
import type { StreamMark } from "../../shared/wire/stream.js";
import type { SidecarMetrics } from "../config/metrics.js";
import type { RateLimiter } from "../write/rate-limiter.js";
import type { StreamGaps } from "./stream-gaps.js";

/**
 * Upserts one stream document per marked message: `hwm` only grows (`$max`), `end` once set
 * stays, `lost` ranges are added as a set, `firstSeen` on insert and `lastSeen` every time. One
 * write per marked message, paid from the write budget like one record.
 */
export class StreamBook {
  constructor(
    private readonly streams: Collection<Document>,
    private readonly rate: RateLimiter,
    private readonly metrics: SidecarMetrics,
    private readonly logger: Logger,
    /** Follows the streams written, for the gap gauge. */
    private readonly gaps: StreamGaps,
  ) {}

  /** Writes `mark`; false when the write failed (the message is then released, to come again). */
  async note(mark: StreamMark): Promise<boolean> {
    const now = new Date();
    const set: Document = { lastSeen: now };
    if (mark.end) set.end = true;
    const update: Document = {
      $max: { hwm: mark.hwm },
      $set: set,
      $setOnInsert: { firstSeen: now },
    };
    if (mark.lost && mark.lost.length > 0) update.$addToSet = { lost: { $each: mark.lost } };
    try {
      await this.rate.spend(1);
      try {
        await this.streams.updateOne({ _id: mark.id } as Document, update, { upsert: true });
      } catch (err) {
        // Two upserts of a new stream at once: one inserts, the other fails on the duplicate
        // _id; the document exists now, so once more updates it.
        if ((err as { code?: unknown }).code !== 11000) throw err;
        await this.streams.updateOne({ _id: mark.id } as Document, update, { upsert: true });
      }
      this.gaps.seen(mark.id);
      return true;
    } catch (err) {
      // Not written: the message comes again and its records dedupe by _id.
      this.metrics.errors.inc({ stage: "streams" });
      this.logger.warn({ err, stream: mark.id }, "cannot write the stream mark; message released");
      return false;
    }
  }
}

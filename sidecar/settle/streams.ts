// The `<collection>_streams` bookkeeping: after a message's records are stored, and before the
// message is deleted, its producer stream mark is written (docs/proof.md). The marks that wait
// while a write is in flight go in the next one, merged by stream: one round trip per cycle, one
// upsert per stream in it, however many messages it settles.
import type { AnyBulkWriteOperation, Collection, Document, WriteConcernSettings } from "mongodb";
import type { Logger } from "../../shared/util/logger.js";
import type { LossRange, StreamMark } from "../../shared/wire/stream.js";
import type { SidecarMetrics } from "../config/metrics.js";
import { DUPLICATE_KEY, isBulkWriteError, writeErrorsOf } from "../config/mongo-shape.js";
import type { Deadline } from "../write/deadline.js";
import { isServerFailureCode } from "../write/mongo-errors.js";
import type { RateLimiter } from "../write/rate-limiter.js";
import type { StreamGaps } from "./stream-gaps.js";

/** Most stream upserts per `bulkWrite`. */
const MAX_STREAMS_PER_WRITE = 500;

export interface StreamBookDeps {
  streams: Collection<Document>;
  writeConcern: WriteConcernSettings;
  deadline: Deadline;
  /** The write budget: one token per stream upsert. */
  rate: Pick<RateLimiter, "spend">;
  metrics: SidecarMetrics;
  logger: Logger;
  /** Follows the streams written, for the gap gauge. */
  gaps: Pick<StreamGaps, "seen">;
}

interface Waiting {
  mark: StreamMark;
  written(ok: boolean): void;
}

/**
 * The marks of several messages as one per stream: the highest `hwm`, `end` if any has it, and
 * every loss range once. Writing the merged mark stores what writing each of them would: `hwm`
 * only grows (`$max`), `end` once set stays, `lost` is a set.
 */
export function mergeMarks(marks: readonly StreamMark[]): StreamMark[] {
  const merged = new Map<string, { mark: StreamMark; lost: Map<string, LossRange> }>();
  for (const mark of marks) {
    let m = merged.get(mark.id);
    if (m === undefined) {
      m = { mark: { id: mark.id, hwm: mark.hwm }, lost: new Map() };
      merged.set(mark.id, m);
    }
    if (mark.hwm > m.mark.hwm) m.mark.hwm = mark.hwm;
    if (mark.end) m.mark.end = true;
    for (const r of mark.lost ?? []) m.lost.set(`${r.from}-${r.to}-${r.reason}`, r);
  }
  return [...merged.values()].map(({ mark, lost }) =>
    lost.size > 0 ? { ...mark, lost: [...lost.values()] } : mark,
  );
}

/**
 * Upserts one stream document per stream: `hwm` only grows (`$max`), `end` once set stays,
 * `lost` ranges are added as a set, `firstSeen` on insert and `lastSeen` every time. One
 * `bulkWrite` in flight at a time; each upsert is paid from the write budget like one record.
 */
export class StreamBook {
  private waiting: Waiting[] = [];
  private running: Promise<void> | undefined;

  constructor(private readonly d: StreamBookDeps) {}

  /**
   * Writes `mark` (with the others waiting); false when the write failed (the message is then
   * released, to come again).
   */
  note(mark: StreamMark): Promise<boolean> {
    return new Promise((written) => {
      this.waiting.push({ mark, written });
      this.running ??= this.loop().finally(() => {
        this.running = undefined;
      });
    });
  }

  private async loop(): Promise<void> {
    while (this.waiting.length > 0) {
      const batch = this.takeBatch();
      const written = await this.write(mergeMarks(batch.map((w) => w.mark)));
      for (const w of batch) w.written(written.has(w.mark.id));
    }
  }

  /** The waiting marks of at most MAX_STREAMS_PER_WRITE streams, in arrival order. */
  private takeBatch(): Waiting[] {
    const ids = new Set<string>();
    let end = 0;
    for (; end < this.waiting.length; end++) {
      const id = (this.waiting[end] as Waiting).mark.id;
      if (!ids.has(id) && ids.size === MAX_STREAMS_PER_WRITE) break;
      ids.add(id);
    }
    return this.waiting.splice(0, end);
  }

  /** Upserts `marks` (one per stream); returns the ids of the streams known to be written. */
  private async write(marks: readonly StreamMark[]): Promise<Set<string>> {
    const { deadline, metrics, logger } = this.d;
    const written = new Set<string>();
    try {
      await this.d.rate.spend(marks.length);
      let pending = marks;
      // Two upserts of a new stream at once (two sidecars): one inserts, the other fails on the
      // duplicate _id; the document exists now, so once more updates it.
      for (let attempt = 0; attempt < 2 && pending.length > 0; attempt++) {
        const { raced, refused } = await deadline("stream marks", this.upsert(pending));
        for (const m of pending) if (!raced.has(m.id) && !refused.has(m.id)) written.add(m.id);
        if (refused.size > 0) {
          metrics.errors.inc({ stage: "streams" });
          logger.warn({ refused: Object.fromEntries(refused) }, "MongoDB refused a stream mark");
        }
        pending = pending.filter((m) => raced.has(m.id));
      }
      if (pending.length > 0) throw new Error("stream upserts raced twice on a duplicate _id");
    } catch (err) {
      // Not written: the messages come again and their records dedupe by _id.
      metrics.errors.inc({ stage: "streams" });
      logger.warn(
        { err, streams: marks.filter((m) => !written.has(m.id)).map((m) => m.id) },
        "cannot write the stream mark; message released",
      );
    }
    for (const id of written) this.d.gaps.seen(id);
    return written;
  }

  /**
   * One unordered bulk of upserts. Returns the ids whose upsert lost a race to insert the
   * stream (duplicate _id: to write again) and those MongoDB refused (with its message), the
   * rest being written; throws when the outcome is unknown.
   */
  private async upsert(
    marks: readonly StreamMark[],
  ): Promise<{ raced: Set<string>; refused: Map<string, string> }> {
    const now = new Date();
    const ops: AnyBulkWriteOperation<Document>[] = marks.map((mark) => ({
      updateOne: {
        filter: { _id: mark.id } as Document,
        update: streamUpdate(mark, now),
        upsert: true,
      },
    }));
    const raced = new Set<string>();
    const refused = new Map<string, string>();
    try {
      await this.d.streams.bulkWrite(ops, { ordered: false, writeConcern: this.d.writeConcern });
    } catch (err) {
      if (!isBulkWriteError(err) || err.result.getWriteConcernError() !== undefined) throw err;
      const writeErrors = writeErrorsOf(err);
      // Only when every upsert is accounted for (matched, inserted or refused) is any outcome
      // known: a network error mid-bulk is a MongoBulkWriteError too, with no writeErrors.
      const { matchedCount, upsertedCount } = err.result;
      if (writeErrors.length === 0) throw err;
      if (matchedCount + upsertedCount + writeErrors.length !== marks.length) throw err;
      // Refused for the deployment's sake (a shard stepping down): unknown, not the mark's fault.
      if (writeErrors.some((w) => isServerFailureCode(w.code))) throw err;
      for (const w of writeErrors) {
        const id = (marks[w.index] as StreamMark).id;
        if (w.code === DUPLICATE_KEY) raced.add(id);
        else refused.set(id, w.errmsg ?? `code ${w.code}`);
      }
    }
    return { raced, refused };
  }
}

function streamUpdate(mark: StreamMark, now: Date): Document {
  const set: Document = { lastSeen: now };
  if (mark.end) set.end = true;
  const update: Document = {
    $max: { hwm: mark.hwm },
    $set: set,
    $setOnInsert: { firstSeen: now },
  };
  if (mark.lost && mark.lost.length > 0) update.$addToSet = { lost: { $each: mark.lost } };
  return update;
}

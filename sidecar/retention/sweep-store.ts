// The MongoDB side of a retention sweep: its document in `<collection>_retention`, the holds,
// the records below the cut-off in `_id` order, and one batch's deletion.
import { ObjectId } from "bson";
import type { Collection, Document, FindCursor } from "mongodb";
import type { Deadline } from "../write/deadline.js";
import { type HoldDoc, holdClauses, MAX_HOLDS } from "./hold-filter.js";

/**
 * One sweep as stored in `<collection>_retention`: everything below `cutoff` and not held may be
 * gone (`auditq verify` reads the largest cutoff). `finishedAt` is null while it runs, or after a
 * crash until the next sweep resumes it. `deleted` grows by each batch.
 */
export interface SweepDoc {
  _id: ObjectId;
  cutoff: ObjectId;
  deleted: number;
  startedAt: Date;
  finishedAt: Date | null;
}

/** The collection of the sweeps of `collection`. */
export function sweepsCollectionName(collection: string): string {
  return `${collection}_retention`;
}

/** Records below a cut-off, oldest first, a batch at a time. */
interface Candidates {
  /** Up to `n` more `_id`s; fewer only at the end. */
  next(n: number): Promise<ObjectId[]>;
  close(): Promise<void>;
}

/** What a sweep does to MongoDB (sweep.ts); a fake in unit tests. */
export interface SweepStore {
  /** The sweep to run for `cutoff`: an unfinished one at or below it (resumed), else a new one. */
  begin(cutoff: ObjectId): Promise<SweepDoc>;
  /** The `$nor` clauses of the holds now (fails closed on an invalid hold). */
  holds(): Promise<Document[]>;
  candidates(cutoff: ObjectId, holds: Document[], batch: number): Candidates;
  /** Deletes the records from `first` to `last` below `cutoff` that no hold matches; how many. */
  deleteBatch(
    first: ObjectId,
    last: ObjectId,
    cutoff: ObjectId,
    holds: Document[],
  ): Promise<number>;
  progress(sweep: ObjectId, deleted: number): Promise<void>;
  /**
   * Whether a sweep finished at or after `since` (server clock) and none is unfinished: then the
   * fleet swept within the interval, and another sidecar need not sweep again.
   */
  sweptSince(since: Date): Promise<boolean>;
  finish(sweep: ObjectId): Promise<void>;
}

/**
 * The filter of what a sweep may delete: `_id` below the cut-off, and `ts` too. Both: a record
 * from another producer that came without `_id` gets a hash for one (docs/sidecar.md, "Other
 * producers"), whose time means nothing; its `ts` keeps a new one. A record without a date `ts`
 * is never deleted.
 */
function expiredFilter(cutoff: ObjectId, holds: Document[]): Document {
  const filter: Document = { _id: { $lt: cutoff }, ts: { $lt: cutoff.getTimestamp() } };
  if (holds.length > 0) filter.$nor = holds;
  return filter;
}

/**
 * By its BSON type, not `instanceof`: the driver may decode with another copy of bson (its
 * CommonJS build next to this ESM one).
 */
function isObjectId(value: unknown): value is ObjectId {
  return (
    typeof value === "object" && value !== null && (value as ObjectId)._bsontype === "ObjectId"
  );
}

export interface MongoSweepStoreDeps {
  records: Collection;
  holds: Collection<HoldDoc>;
  sweeps: Collection<SweepDoc>;
  deadline: Deadline;
  /** For the reads that may scan (FerretDB sorts the whole collection): patient while MongoDB answers. */
  readDeadline: Deadline;
}

export function mongoSweepStore(d: MongoSweepStoreDeps): SweepStore {
  const { deadline, readDeadline } = d;
  return {
    async begin(cutoff) {
      const unfinished = await deadline(
        "retention sweep read",
        d.sweeps.find({ finishedAt: null }).sort({ startedAt: -1 }).limit(1).toArray(),
      );
      const last = unfinished[0];
      // Resumed at its own cut-off, never above today's (retentionDays may have grown since).
      if (
        last !== undefined &&
        isObjectId(last.cutoff) &&
        last.cutoff.getTimestamp() <= cutoff.getTimestamp()
      ) {
        return last;
      }
      const id = new ObjectId();
      const doc = await deadline(
        "retention sweep start",
        d.sweeps.findOneAndUpdate(
          { _id: id },
          {
            // FerretDB drops a null given in $setOnInsert; $set keeps it (an insert either way).
            $setOnInsert: { cutoff, deleted: 0 },
            $set: { finishedAt: null },
            $currentDate: { startedAt: true },
          },
          { upsert: true, returnDocument: "after" },
        ),
      );
      if (doc === null) throw new Error("retention sweep start returned no document");
      return doc;
    },
    async holds() {
      const docs = await deadline(
        "retention holds read",
        d.holds
          .find({})
          .limit(MAX_HOLDS + 1)
          .toArray(),
      );
      return holdClauses(docs);
    },
    candidates(cutoff, holds, batch) {
      const cursor: FindCursor<Document> = d.records
        .find(expiredFilter(cutoff, holds), { projection: { _id: 1 } })
        .sort({ _id: 1 })
        .batchSize(batch);
      return {
        async next(n) {
          const ids: ObjectId[] = [];
          while (ids.length < n) {
            const doc = await readDeadline("retention find", cursor.next());
            if (doc === null) break;
            ids.push(doc._id as ObjectId);
          }
          return ids;
        },
        close: () => deadline("retention find close", cursor.close()),
      };
    },
    async deleteBatch(first, last, cutoff, holds) {
      const filter = expiredFilter(cutoff, holds);
      filter._id = { $gte: first, $lte: last, $lt: cutoff };
      const { deletedCount } = await readDeadline("retention delete", d.records.deleteMany(filter));
      return deletedCount;
    },
    async sweptSince(since) {
      const [recent, unfinished] = await Promise.all([
        deadline("retention sweep read", d.sweeps.findOne({ finishedAt: { $gte: since } })),
        deadline("retention sweep read", d.sweeps.findOne({ finishedAt: null })),
      ]);
      return recent !== null && unfinished === null;
    },
    async progress(sweep, deleted) {
      await deadline(
        "retention sweep progress",
        d.sweeps.updateOne({ _id: sweep }, { $inc: { deleted } }),
      );
    },
    async finish(sweep) {
      await deadline(
        "retention sweep finish",
        d.sweeps.updateOne({ _id: sweep }, { $currentDate: { finishedAt: true } }),
      );
    },
  };
}

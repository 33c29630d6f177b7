// Writes decoded records into MongoDB and says, per record, whether it is durably stored.
import type { Collection, Document, WriteConcernSettings } from "mongodb";
import { DUPLICATE_KEY, isBulkWriteError, writeErrorsOf } from "../config/mongo-shape.js";
import { isServerFailureCode } from "./mongo-errors.js";

/** One shared object for the usual outcome: a bulk of 500 allocates no 500 of them. */
const WRITTEN: RecordOutcome = Object.freeze({ kind: "written" });

export type RecordOutcome =
  | { kind: "written" }
  | { kind: "duplicate" }
  /** Its `_id` is taken by a record with other content (see conflicts.ts). */
  | { kind: "conflict"; hash: string; storedHash: string }
  | { kind: "failed"; code: number | undefined; message: string };

/**
 * Inserts `docs` in one unordered bulk and returns one outcome per document, in order.
 * Throws when the outcome is unknown (network error, timeout, write concern error): the caller
 * must then treat every document as not written.
 */
export async function insertRecords(
  collection: Collection,
  docs: Document[],
  writeConcern: WriteConcernSettings,
): Promise<RecordOutcome[]> {
  const outcomes: RecordOutcome[] = new Array(docs.length).fill(WRITTEN);
  if (docs.length === 0) return outcomes;
  try {
    await collection.insertMany(docs, { ordered: false, writeConcern });
    return outcomes;
  } catch (err) {
    if (!isBulkWriteError(err)) throw err;
    // A write concern error means durability is unknown for every document.
    if (err.result.getWriteConcernError() !== undefined) throw err;
    const writeErrors = writeErrorsOf(err);
    // A network error mid-bulk is also a MongoBulkWriteError, with no writeErrors at all: only
    // when every document is accounted for (inserted or refused) is any outcome known.
    if (err.insertedCount + writeErrors.length !== docs.length) throw err;
    // A document refused for the deployment's sake (through mongos: its shard is down or
    // stepping down) may be written by a retry: its outcome is unknown, not the record's fault.
    // The whole bulk comes back; what was stored then comes back as duplicates.
    if (writeErrors.some((w) => isServerFailureCode(w.code))) throw err;
    // A duplicate key means the record is already stored, which is what we want.
    for (const writeError of writeErrors) {
      outcomes[writeError.index] =
        writeError.code === DUPLICATE_KEY
          ? { kind: "duplicate" }
          : { kind: "failed", code: writeError.code, message: writeError.errmsg ?? "write error" };
    }
    return outcomes;
  }
}

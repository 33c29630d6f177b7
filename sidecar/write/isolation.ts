// Finds the records a bulk failed on, so that a poison record fails alone and the rest is written.
import { calculateObjectSize } from "bson";
import type { Collection, Db, Document, WriteConcernSettings } from "mongodb";
import type { Logger } from "../../shared/util/logger.js";
import { isMongoOutage } from "./mongo-errors.js";
import { insertRecords, type RecordOutcome } from "./mongo-sink.js";

/** MongoDB's (and FerretDB's) largest document: the driver refuses a bulk holding a larger one. */
const MAX_BSON_DOCUMENT_BYTES = 16 * 1024 * 1024;

/** Why `doc` can never be written, or undefined when its size is fine. */
function sizeProblem(doc: Document): string | undefined {
  let bytes: number;
  try {
    bytes = calculateObjectSize(doc);
  } catch (err) {
    return `record cannot be serialized to BSON: ${err instanceof Error ? err.message : String(err)}`;
  }
  return bytes > MAX_BSON_DOCUMENT_BYTES
    ? `record is ${bytes} bytes of BSON, over the ${MAX_BSON_DOCUMENT_BYTES}-byte document limit`
    : undefined;
}

function refusal(err: unknown): RecordOutcome {
  const e = err as { code?: unknown; message?: unknown };
  return {
    kind: "failed",
    code: typeof e.code === "number" ? e.code : undefined,
    message: `refused whenever written alone, while MongoDB answered: ${String(e.message ?? err)}`,
  };
}

/**
 * Inserts `docs` like {@link insertRecords}, one outcome per document. When the bulk fails as a
 * whole for a reason that is not an outage (see {@link isMongoOutage}) and MongoDB still
 * answers `ping`, the culprit is searched for: too-large records are refused at once, then the
 * bulk is halved until the failing record is alone, and a record that fails twice alone gets a
 * "failed" outcome (quarantine) while every other record is written. Throws, as insertRecords,
 * when the outcome is unknown: an outage, or MongoDB not answering.
 */
export async function insertIsolating(
  collection: Collection,
  docs: readonly Document[],
  writeConcern: WriteConcernSettings,
  answers: () => Promise<boolean>,
): Promise<RecordOutcome[]> {
  const outcomes: RecordOutcome[] = docs.map(() => ({ kind: "written" }));

  async function attempt(indices: readonly number[], alone: boolean): Promise<void> {
    if (indices.length === 0) return;
    try {
      const out = await insertRecords(
        collection,
        indices.map((i) => docs[i] as Document),
        writeConcern,
      );
      for (const [k, outcome] of out.entries()) outcomes[indices[k] as number] = outcome;
      return;
    } catch (err) {
      if (isMongoOutage(err)) throw err;
      const fine: number[] = [];
      for (const i of indices) {
        const problem = sizeProblem(docs[i] as Document);
        if (problem === undefined) fine.push(i);
        else outcomes[i] = { kind: "failed", code: undefined, message: problem };
      }
      if (fine.length < indices.length) return attempt(fine, false);
      if (!(await answers())) throw err;
      if (indices.length === 1) {
        // Once more alone: a connection lost by chance must not send a good record to quarantine.
        if (!alone) return attempt(indices, true);
        outcomes[indices[0] as number] = refusal(err);
        return;
      }
      const half = Math.ceil(indices.length / 2);
      await attempt(indices.slice(0, half), false);
      await attempt(indices.slice(half), false);
    }
  }

  await attempt(
    docs.map((_, i) => i),
    false,
  );
  return outcomes;
}

/** A probe of whether MongoDB answers `ping` now, for {@link insertIsolating}. */
export function pingProbe(db: Db, logger: Logger): () => Promise<boolean> {
  return async () => {
    try {
      await db.command({ ping: 1 });
      return true;
    } catch (err) {
      logger.debug({ err }, "MongoDB does not answer ping");
      return false;
    }
  };
}

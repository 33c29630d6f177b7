// The verifier's pass over records without a valid `seq` (producers before version 2, or
// records written by hand): a merge-join by `_id` with the digests that name records without a
// stream. Altered and deleted records are always reported; a record no digest names only when
// it has a `seq` (it claims a stream it is not in) or with `--strict`.
import type { Document, ObjectId } from "bson";
import { documentHash } from "./canonical.js";
import type { DigestEntry } from "./entries.js";
import { Peekable } from "./peekable.js";
import type { Findings } from "./report.js";

export interface LoosePassInput {
  /** Records without a valid `seq`, sorted by `_id`, read with EXACT_READ. */
  records: AsyncIterable<Document>;
  /** Trusted digest entries without a stream, sorted by `_id`, in chunks (mergeRuns). */
  entries: AsyncIterable<readonly DigestEntry[]>;
  cutoff: ObjectId | undefined;
  /** Report records without `seq` that no digest names. */
  strict: boolean;
  onProgress?: (records: number) => void;
}

/** Runs the pass, adding to `findings`. */
export async function checkLoose(input: LoosePassInput, findings: Findings): Promise<void> {
  const records = Peekable.of(input.records);
  const entries = Peekable.ofChunks(input.entries);
  const { report } = findings;
  for (;;) {
    const r = records.ready ? records.now() : await records.peek();
    const e = entries.ready ? entries.now() : await entries.peek();
    if (r === undefined && e === undefined) return;
    const order =
      r === undefined ? 1 : e === undefined ? -1 : Buffer.compare((r._id as ObjectId).id, e.id.id);
    if (order <= 0) {
      records.take();
      report.records++;
      if (report.records % 4096 === 0) input.onProgress?.(report.records);
    }
    if (order >= 0) entries.take();
    if (order === 0) {
      const hash = documentHash(r as Document);
      if (Buffer.compare(hash, (e as DigestEntry).hash) !== 0) {
        findings.add("altered", { id: (e as DigestEntry).id.toHexString() });
      }
    } else if (order < 0) {
      const doc = r as Document;
      if (input.strict || doc.seq !== undefined) {
        findings.add("unaccounted", { id: (doc._id as ObjectId).toHexString() });
      }
    } else {
      const id = (e as DigestEntry).id;
      if (input.cutoff !== undefined && Buffer.compare(id.id, input.cutoff.id) < 0) {
        report.expired++;
      } else findings.add("deleted", { id: id.toHexString() });
    }
  }
}

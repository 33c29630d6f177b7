// The verifier's sources in MongoDB: the records, digests, streams and retention collections of
// one audit trail, each read sorted by an index and with every BSON type as stored (EXACT_READ).
import { type Document, ObjectId } from "bson";
import type { Db, Filter } from "mongodb";
import { EXACT_READ } from "./canonical.js";
import { digestCollectionName } from "./digest.js";
import type { VerifySources } from "./verify.js";

/** A time range on records' `_id` (ObjectIds begin with their creation second). */
export interface IdRange {
  since?: Date | undefined;
  until?: Date | undefined;
}

/**
 * Digests are selected by their smallest record `_id`: one whose message began this long before
 * `--since` may still name records in range (its entries outside the range are left out).
 */
const DIGEST_LEAD_MS = 3_600_000;

const STREAM_SEQ: Filter<Document> = {
  "seq.stream": { $type: "string" },
  "seq.n": { $type: "number" },
};

function idFilter(range: IdRange, leadMs = 0): Filter<Document> {
  const bounds: Document = {};
  if (range.since)
    bounds.$gte = ObjectId.createFromTime(Math.floor((range.since.getTime() - leadMs) / 1000));
  // The whole `until` second: an ObjectId's time is in seconds.
  if (range.until)
    bounds.$lt = ObjectId.createFromTime(Math.floor(range.until.getTime() / 1000) + 1);
  return Object.keys(bounds).length === 0 ? {} : bounds;
}

/** Whether a record `_id` is inside `range`. */
export function idInRange(range: IdRange): (id: ObjectId) => boolean {
  const bounds = idFilter(range);
  const low = bounds.$gte as ObjectId | undefined;
  const high = bounds.$lt as ObjectId | undefined;
  return (id) =>
    (low === undefined || Buffer.compare(id.id, low.id) >= 0) &&
    (high === undefined || Buffer.compare(id.id, high.id) < 0);
}

/** The sources of the trail in `collection` of `db`, within `range`. */
export function mongoSources(db: Db, collection: string, range: IdRange): VerifySources {
  const records = db.collection(collection);
  const digests = db.collection(digestCollectionName(collection));
  const ids = idFilter(range);
  const recordIds: Filter<Document> = Object.keys(ids).length === 0 ? {} : { _id: ids };
  const digestIds = idFilter(range, DIGEST_LEAD_MS);
  const byIdMin: Filter<Document> = Object.keys(digestIds).length === 0 ? {} : { idMin: digestIds };
  return {
    chainDigests: () => digests.find(byIdMin, EXACT_READ).sort({ writer: 1, k: 1 }),
    streamDigests: () =>
      digests
        .find({ ...byIdMin, stream: { $type: "string" } }, EXACT_READ)
        .sort({ stream: 1, nMin: 1 }),
    looseDigests: () => digests.find({ ...byIdMin, stream: null }, EXACT_READ).sort({ idMin: 1 }),
    streamRecords: () =>
      records
        .find({ ...recordIds, ...STREAM_SEQ }, EXACT_READ)
        .sort({ "seq.stream": 1, "seq.n": 1 }),
    looseRecords: () =>
      records.find({ ...recordIds, $nor: [STREAM_SEQ] }, EXACT_READ).sort({ _id: 1 }),
    streams: () => db.collection(`${collection}_streams`).find({}, EXACT_READ).sort({ _id: 1 }),
    async cutoff() {
      const [last] = await db
        .collection(`${collection}_retention`)
        .find({ cutoff: { $type: "objectId" } })
        .sort({ cutoff: -1 })
        .limit(1)
        .toArray();
      return last?.cutoff as ObjectId | undefined;
    },
  };
}

// Turns a checked filter and a page position into a MongoDB query, and names its shape.
import { type Document, ObjectId } from "bson";
import type { NormalizedFilter } from "./filter.js";

/** Newest first (`"desc"`, the default) or oldest first. */
export type Order = "desc" | "asc";

/**
 * The query's shape as MongoDB's ESR rule sees it: the fields matched by equality, the sort key
 * (always `_id`), and the fields with a range. The index-fitness test checks it against the
 * sidecar's indexes.
 */
export interface QueryShape {
  readonly equality: readonly string[];
  readonly sort: "_id";
  readonly range: readonly string[];
}

/** A MongoDB filter and sort, and its shape. */
export interface BuiltQuery {
  readonly filter: Document;
  readonly sort: { _id: 1 | -1 };
  readonly shape: QueryShape;
}

// Equality fields: filter field → document path.
const EQUALITY = [
  ["actor", "actor.id"],
  ["action", "action"],
  ["targetType", "target.type"],
  ["targetId", "target.id"],
  ["service", "service.name"],
  ["requestId", "request.requestId"],
  ["tenant", "tenant"],
] as const satisfies readonly (readonly [keyof NormalizedFilter, string])[];

const CLASS_BOUNDS: Record<string, number> = {
  "1xx": 100,
  "2xx": 200,
  "3xx": 300,
  "4xx": 400,
  "5xx": 500,
};

/**
 * The `_id` at or below every record captured at `ms` or later. auditq makes a record's `_id`
 * just before its `ts` (middleware/capture/request-facts.ts), so its seconds are those of `ts`
 * or, across a second's edge, one less.
 */
function lowestIdAt(ms: number): ObjectId {
  return ObjectId.createFromTime(Math.max(0, Math.floor(ms / 1000) - 1));
}

/** The `_id` above every record captured before `ms`. */
function idAbove(ms: number): ObjectId {
  return ObjectId.createFromTime(Math.floor((ms - 1) / 1000) + 1);
}

/**
 * The smallest ObjectId. Every query keeps `_id` at or above it: MongoDB compares like types
 * only, so a record whose `_id` is not an ObjectId (another producer's string) is never read,
 * rather than sorted apart from the rest and breaking the cursor.
 */
const LOWEST_ID = ObjectId.createFromHexString("000000000000000000000000");

function min(a: ObjectId | undefined, b: ObjectId | undefined): ObjectId | undefined {
  if (!a) return b;
  if (!b) return a;
  return a.toHexString() < b.toHexString() ? a : b;
}

function max(a: ObjectId | undefined, b: ObjectId | undefined): ObjectId | undefined {
  if (!a) return b;
  if (!b) return a;
  return a.toHexString() > b.toHexString() ? a : b;
}

/**
 * The query for `filter`, in `order`, after the record `after` (exclusive) when given. Every
 * value goes in under `$eq` or a range operator as a literal; the `_id` bounds come from the
 * time range and the position, so paging is a keyset on `_id` and never skips or repeats.
 */
export function buildQuery(filter: NormalizedFilter, order: Order, after?: ObjectId): BuiltQuery {
  const query: Document = {};
  const equality: string[] = [];
  const range: string[] = [];
  for (const [key, path] of EQUALITY) {
    const value = filter[key];
    if (value === undefined) continue;
    query[path] = { $eq: value };
    equality.push(path);
  }
  const status = filter.status;
  if (typeof status === "number") {
    query["outcome.status"] = { $eq: status };
    equality.push("outcome.status");
  } else if (status === "failed") {
    query.$or = [{ "outcome.status": { $gte: 400 } }, { "outcome.aborted": { $eq: true } }];
    range.push("outcome.status");
  } else if (status !== undefined) {
    const low = CLASS_BOUNDS[status] as number;
    query["outcome.status"] = { $gte: low, $lt: low + 100 };
    range.push("outcome.status");
  }
  // Time: `_id` bounds let the index skip what is out of range; `ts` decides exactly.
  let lowId = filter.from ? lowestIdAt(filter.from.getTime()) : LOWEST_ID;
  let highId = filter.to ? idAbove(filter.to.getTime()) : undefined;
  const ts: Document = {};
  if (filter.from) ts.$gte = filter.from;
  if (filter.to) ts.$lt = filter.to;
  if (filter.from || filter.to) {
    query.ts = ts;
    range.push("ts");
  }
  const id: Document = {};
  if (after && order === "desc") highId = min(highId, after);
  if (after && order === "asc") lowId = max(lowId, after) as ObjectId;
  id[after && order === "asc" && lowId === after ? "$gt" : "$gte"] = lowId;
  if (highId) id.$lt = highId;
  query._id = id;
  range.push("_id");
  return {
    filter: query,
    sort: { _id: order === "asc" ? 1 : -1 },
    shape: { equality, sort: "_id", range },
  };
}

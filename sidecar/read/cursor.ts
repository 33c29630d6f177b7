// The opaque page cursor: where a page ended, in which order, for which filter and tenant.
import { createHash } from "node:crypto";
import { ObjectId } from "bson";
import type { Order } from "./query.js";
import { QueryError } from "./query-error.js";

const VERSION = 1;
/** Longer than any cursor this codec writes (83 characters). */
const MAX_CURSOR_CHARS = 200;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const HEX_ID = /^[0-9a-f]{24}$/;

/** A decoded cursor: the last record's `_id` and the order of the pages. */
export interface CursorPosition {
  readonly after: ObjectId;
  readonly order: Order;
}

/**
 * The hash that ties a cursor to its position and query: the `_id`, the order and the canonical
 * filter text (with the tenant). It refuses a cursor altered or used with another query; it is
 * not a signature: a bound reader puts its tenant in every query whatever the cursor says, so
 * even a cursor made by hand only moves the position within what the reader may read.
 */
function queryHash(id: string, order: Order, filterKey: string): string {
  return createHash("sha256")
    .update(`${id}\n${order}\n${filterKey}`)
    .digest("base64url")
    .slice(0, 22);
}

/** The cursor of the page that ends at `last`, for the query `filterKey` in `order`. */
export function encodeCursor(last: ObjectId, order: Order, filterKey: string): string {
  const id = last.toHexString();
  const body = JSON.stringify([VERSION, order, id, queryHash(id, order, filterKey)]);
  return Buffer.from(body, "utf8").toString("base64url");
}

const refuse = (why: string) => new QueryError("after", why);

/**
 * Reads a cursor made by {@link encodeCursor} for the same filter (and tenant). Throws
 * QueryError for anything else: not a string, too long, malformed, another version, or made
 * for another filter, order or tenant.
 */
export function decodeCursor(cursor: unknown, filterKey: string): CursorPosition {
  if (typeof cursor !== "string") throw refuse("expected a cursor string from a previous page");
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_CHARS || !BASE64URL.test(cursor)) {
    throw refuse("not a cursor this reader made");
  }
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch (err) {
    // A cursor is text this codec wrote; one that does not parse was altered or made up.
    throw refuse(`not a cursor this reader made (${(err as Error).name})`);
  }
  if (!Array.isArray(parts) || parts.length !== 4 || parts[0] !== VERSION) {
    throw refuse("not a cursor this reader made");
  }
  const [, order, id, hash] = parts as unknown[];
  if ((order !== "asc" && order !== "desc") || typeof id !== "string" || !HEX_ID.test(id)) {
    throw refuse("not a cursor this reader made");
  }
  if (hash !== queryHash(id, order, filterKey)) {
    throw refuse("this cursor belongs to another filter or tenant; start again without it");
  }
  return { after: ObjectId.createFromHexString(id), order };
}

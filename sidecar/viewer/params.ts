// The viewer's URL query, read from the raw URL: filter fields, page options and export format.
import type { FindOptions, Order, ReadFilter } from "../read/index.js";
import { QueryError } from "../read/query-error.js";

/** Query parameters that make the filter: the reader's fields, with `target` split in two. */
const FILTER_PARAMS = [
  "actor",
  "action",
  "targetType",
  "targetId",
  "status",
  "from",
  "to",
  "service",
  "requestId",
  "tenant",
] as const;

/** Parameters of `GET /api/records` besides the filter. */
const PAGE_PARAMS = ["limit", "after", "order"] as const;
/** Parameters of `GET /api/export` besides the filter. */
const EXPORT_PARAMS = ["format", "order"] as const;

/**
 * The longest query string the viewer reads. Filter values are at most 1,024 characters and a
 * cursor about 70, so a real query is far shorter; a longer one is refused before it is parsed,
 * whatever header size the server allows.
 */
export const MAX_QUERY_CHARS = 8 * 1024;

type Params = Map<string, string>;

const clip = (name: string) => (name.length > 64 ? `${name.slice(0, 64)}…` : name);

/**
 * The query of `url` (a request's `url`, path and query) as one value per name. Reads the raw
 * text, not `req.query`, so that the app's query parser (Express 4's `qs` makes objects of
 * `actor[$ne]=`) has no say. Refuses names not in `known` and names given twice; an empty
 * value means "not set", as an empty form field does.
 */
function readParams(url: string, known: readonly string[]): Params {
  const at = url.indexOf("?");
  const query = at === -1 ? "" : url.slice(at + 1);
  if (query.length > MAX_QUERY_CHARS) {
    throw new QueryError("query", `longer than ${MAX_QUERY_CHARS} characters`);
  }
  const params: Params = new Map();
  for (const [name, value] of new URLSearchParams(query)) {
    if (!known.includes(name)) {
      throw new QueryError(clip(name), `unknown parameter; known: ${known.join(", ")}`);
    }
    if (params.has(name)) throw new QueryError(name, "given more than once");
    if (value !== "") params.set(name, value);
  }
  return params;
}

/** A status as the reader takes it: `404` as a number, `"5xx"` and `"failed"` as they are. */
function status(text: string): number | string {
  return /^[0-9]{1,3}$/.test(text) ? Number(text) : text;
}

/** The reader's filter from the parameters (values are checked by the reader's own rules). */
function filterOf(params: Params): ReadFilter {
  const filter: Record<string, unknown> = {};
  for (const name of ["actor", "action", "service", "requestId", "tenant", "from", "to"]) {
    const value = params.get(name);
    if (value !== undefined) filter[name] = value;
  }
  const type = params.get("targetType");
  const id = params.get("targetId");
  if (type !== undefined || id !== undefined) {
    filter.target = {
      ...(type === undefined ? {} : { type }),
      ...(id === undefined ? {} : { id }),
    };
  }
  const text = params.get("status");
  if (text !== undefined) filter.status = status(text);
  return filter as ReadFilter;
}

function orderOf(params: Params): Order | undefined {
  const value = params.get("order");
  if (value === undefined || value === "asc" || value === "desc") return value;
  throw new QueryError("order", 'expected "desc" or "asc"');
}

/** What `GET /api/records?…` asks for. Throws QueryError for a bad query. */
export function recordsQuery(url: string): { filter: ReadFilter; options: FindOptions } {
  const params = readParams(url, [...FILTER_PARAMS, ...PAGE_PARAMS]);
  const options: FindOptions = {};
  const limit = params.get("limit");
  if (limit !== undefined) {
    if (!/^[0-9]{1,10}$/.test(limit)) throw new QueryError("limit", "expected a whole number");
    options.limit = Number(limit);
  }
  const after = params.get("after");
  if (after !== undefined) options.after = after;
  const order = orderOf(params);
  if (order !== undefined) options.order = order;
  return { filter: filterOf(params), options };
}

/** What `GET /api/export?…` asks for. Throws QueryError for a bad query. */
export function exportQuery(url: string): {
  filter: ReadFilter;
  format: "csv" | "ndjson";
  order: Order | undefined;
} {
  const params = readParams(url, [...FILTER_PARAMS, ...EXPORT_PARAMS]);
  const format = params.get("format");
  if (format !== "csv" && format !== "ndjson") {
    throw new QueryError("format", 'expected "csv" or "ndjson"');
  }
  return { filter: filterOf(params), format, order: orderOf(params) };
}

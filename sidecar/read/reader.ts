// The reader: finds pages of records, streams them, exports them; optionally bound to a tenant.
import type { Readable } from "node:stream";
import type { Document } from "bson";
import { type Collection, MongoClient } from "mongodb";
import { ConfigError } from "../../shared/util/errors.js";
import type { AuditRecord } from "../../shared/wire/record.js";
import { isMongoClient } from "../config/mongo-shape.js";
import { SIDECAR_OPTIONS } from "../config/option-table.js";
import { decodeCursor, encodeCursor } from "./cursor.js";
import { type ExportFormat, exportStream } from "./export.js";
import { filterKey, isPlainObject, literal, normalizeFilter, type ReadFilter } from "./filter.js";
import { DEFAULT_LIMIT, MAX_LIMIT } from "./page-limits.js";
import { type BuiltQuery, buildQuery, type Order } from "./query.js";
import { QueryError } from "./query-error.js";

/** Where the records are, and whose. */
export interface ReaderOptions {
  /** A connection string; the reader makes a client and closes it in `close()`. */
  mongodbUri?: string | undefined;
  /** A MongoClient of the app's own, used as given and left open by `close()`. */
  mongo?: MongoClient | undefined;
  /** Default `"auditq"`, as the sidecar's. */
  database?: string | undefined;
  /** Default `"records"`, as the sidecar's. */
  collection?: string | undefined;
  /** Binds the reader to one tenant: every query, cursor and export is confined to it. */
  tenant?: string | undefined;
  /**
   * The server's time limit for one page of `find` (MongoDB's `maxTimeMS`), so that a filter
   * matching few records of a large trail cannot scan for ever. Default 30000; `0`: no limit.
   * Streams and exports have none: they run as long as they are read.
   */
  maxTimeMs?: number | undefined;
}

/** A page's size, position and order. */
export interface FindOptions {
  /** Records per page, 1 to {@link MAX_LIMIT}; default {@link DEFAULT_LIMIT}. More is refused. */
  limit?: number | undefined;
  /** The `next` of the previous page; absent or null for the first page. */
  after?: string | null | undefined;
  /** `"desc"` (newest first, the default) or `"asc"`. A cursor keeps the order it was made in. */
  order?: Order | undefined;
}

/** One page: its records, and the cursor of the next page (null after the last record). */
export interface Page {
  records: AuditRecord[];
  next: string | null;
}

/** Order of a stream or export. */
export interface StreamOptions {
  order?: Order | undefined;
}

/** Format and order of an export. */
export interface ExportOptions extends StreamOptions {
  format: ExportFormat;
}

/** Reads a stored audit trail. Filters and options are checked; bad ones throw QueryError. */
export interface Reader {
  /** The tenant this reader is bound to, if any. */
  readonly tenant: string | undefined;
  /** One page of records matching `filter`, newest first unless `order: "asc"`. */
  find(filter?: ReadFilter, options?: FindOptions): Promise<Page>;
  /** Every matching record, pulled from MongoDB in batches as the loop asks for them. */
  stream(filter?: ReadFilter, options?: StreamOptions): AsyncIterable<AuditRecord>;
  /** Every matching record as CSV or NDJSON bytes, with backpressure. */
  export(filter: ReadFilter | undefined, options: ExportOptions): Readable;
  /** Closes the client the reader made from `mongodbUri`; a client passed in stays open. */
  close(): Promise<void>;
}

/** The default `maxTimeMs`. */
const DEFAULT_MAX_TIME_MS = 30_000;
/** Records per batch a stream or export fetches: what it holds in memory at most. */
const STREAM_BATCH = 200;
const READER_KEYS = ["mongodbUri", "mongo", "database", "collection", "tenant", "maxTimeMs"];
const MONGODB_URI = /^mongodb(\+srv)?:\/\/\S+$/;

function checkOptions(options: ReaderOptions): void {
  if (!isPlainObject(options)) throw new ConfigError("createReader: expected an options object");
  for (const key of Object.keys(options)) {
    if (!READER_KEYS.includes(key)) {
      throw new ConfigError(
        `createReader: unknown option ${JSON.stringify(key.slice(0, 64))}; known: ${READER_KEYS.join(", ")}`,
        { option: key },
      );
    }
  }
  const { mongodbUri, mongo } = options;
  if ((mongodbUri === undefined) === (mongo === undefined)) {
    throw new ConfigError("createReader: give exactly one of mongodbUri and mongo", {
      option: "mongodbUri",
    });
  }
  if (
    mongodbUri !== undefined &&
    (typeof mongodbUri !== "string" || !MONGODB_URI.test(mongodbUri))
  ) {
    throw new ConfigError(
      "createReader: mongodbUri: expected a connection string (mongodb://...)",
      { option: "mongodbUri" },
    );
  }
  const { maxTimeMs } = options;
  if (
    maxTimeMs !== undefined &&
    (typeof maxTimeMs !== "number" ||
      !Number.isInteger(maxTimeMs) ||
      maxTimeMs < 0 ||
      maxTimeMs > 3_600_000)
  ) {
    throw new ConfigError("createReader: maxTimeMs: expected an integer from 0 to 3600000", {
      option: "maxTimeMs",
    });
  }
  if (mongo !== undefined && !isMongoClient(mongo)) {
    throw new ConfigError("createReader: mongo: expected a MongoClient", { option: "mongo" });
  }
}

function order(value: unknown, field: string): Order | undefined {
  if (value === undefined) return undefined;
  if (value === "asc" || value === "desc") return value;
  throw new QueryError(field, 'expected "desc" or "asc"');
}

function findOptions(value: unknown): { limit: number; after: unknown; order: Order | undefined } {
  const opts = value ?? {};
  if (!isPlainObject(opts)) throw new QueryError("options", "expected an object");
  for (const key of Object.keys(opts)) {
    if (key !== "limit" && key !== "after" && key !== "order") {
      throw new QueryError(key.slice(0, 64), "unknown option; known: limit, after, order");
    }
  }
  const limit = opts.limit ?? DEFAULT_LIMIT;
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new QueryError("limit", `expected an integer from 1 to ${MAX_LIMIT}`);
  }
  return { limit, after: opts.after ?? undefined, order: order(opts.order, "order") };
}

/**
 * A reader of the records the sidecar stored in `database`.`collection`. Connects on first use.
 * Throws ConfigError for bad options.
 */
export function createReader(options: ReaderOptions): Reader {
  checkOptions(options);
  const database = SIDECAR_OPTIONS.database.rule.check(
    "database",
    options.database ?? SIDECAR_OPTIONS.database.default,
  );
  const name = SIDECAR_OPTIONS.collection.rule.check(
    "collection",
    options.collection ?? SIDECAR_OPTIONS.collection.default,
  );
  const tenant = options.tenant === undefined ? undefined : boundTenant(options.tenant);
  const owned = options.mongo === undefined;
  const client =
    options.mongo ??
    new MongoClient(options.mongodbUri as string, { serverSelectionTimeoutMS: 5_000 });
  const collection: Collection<Document> = client.db(database).collection(name);
  const maxTimeMS = options.maxTimeMs ?? DEFAULT_MAX_TIME_MS;
  const timeLimit = maxTimeMS > 0 ? { maxTimeMS } : {};

  async function* iterate(query: BuiltQuery): AsyncGenerator<AuditRecord> {
    const cursor = collection.find(query.filter, { sort: query.sort, batchSize: STREAM_BATCH });
    try {
      for await (const record of cursor) yield record as AuditRecord;
    } finally {
      await cursor.close();
    }
  }

  function streamQuery(filter: ReadFilter | undefined, opts: unknown, known: string[]): BuiltQuery {
    const normalized = normalizeFilter(filter, tenant);
    const given = opts ?? {};
    if (!isPlainObject(given)) throw new QueryError("options", "expected an object");
    for (const key of Object.keys(given)) {
      if (!known.includes(key)) {
        throw new QueryError(key.slice(0, 64), `unknown option; known: ${known.join(", ")}`);
      }
    }
    return buildQuery(normalized, order(given.order, "order") ?? "desc");
  }

  return {
    tenant,
    async find(filter, opts) {
      const normalized = normalizeFilter(filter, tenant);
      const { limit, after, order: asked } = findOptions(opts);
      const key = filterKey(normalized);
      const position = after === undefined ? undefined : decodeCursor(after, key);
      if (position && asked !== undefined && asked !== position.order) {
        throw new QueryError("order", "differs from the order the cursor was made in");
      }
      const pageOrder = position?.order ?? asked ?? "desc";
      const query = buildQuery(normalized, pageOrder, position?.after);
      // One record more than asked says whether another page follows, without an empty page.
      const docs = await collection
        .find(query.filter, { sort: query.sort, limit: limit + 1, ...timeLimit })
        .toArray();
      const more = docs.length > limit;
      const records = (more ? docs.slice(0, limit) : docs) as AuditRecord[];
      const last = records[records.length - 1];
      return { records, next: more && last ? encodeCursor(last._id, pageOrder, key) : null };
    },
    stream(filter, opts) {
      return iterate(streamQuery(filter, opts, ["order"]));
    },
    export(filter, opts) {
      if (!isPlainObject(opts) || (opts.format !== "csv" && opts.format !== "ndjson")) {
        throw new QueryError("format", 'expected "csv" or "ndjson"');
      }
      return exportStream(iterate(streamQuery(filter, opts, ["format", "order"])), opts.format);
    },
    async close() {
      if (owned) await client.close();
    },
  };
}

function boundTenant(value: unknown): string {
  try {
    return literal("tenant", value);
  } catch (err) {
    // The same rule as a filter's tenant, reported as a bad option of createReader.
    throw new ConfigError(`createReader: ${(err as Error).message}`, { option: "tenant" });
  }
}

// `auditq query`: prints the records matching flags as a table, NDJSON or CSV, newest first.
import type { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { parseArgs } from "node:util";
import { ConfigError } from "../../../shared/util/errors.js";
import { exportStream } from "../../read/export.js";
import type { ReadFilter } from "../../read/filter.js";
import { MAX_LIMIT } from "../../read/page-limits.js";
import type { Order } from "../../read/query.js";
import { QueryError } from "../../read/query-error.js";
import { CONNECTION_FLAGS, CONNECTION_SETTINGS, readConnection } from "../connection.js";
import { recordTable } from "./query-table.js";

const FORMATS = ["table", "ndjson", "csv"] as const;
/** Records a table shows when `--limit` is not given; NDJSON and CSV print every match. */
const TABLE_LIMIT = 50;
const DURATION = /^(\d{1,9})(s|m|h|d|w)$/;
const UNIT_MS: Record<string, number> = { s: 1e3, m: 60e3, h: 3600e3, d: 86_400e3, w: 604_800e3 };

const FLAGS = {
  actor: { type: "string" },
  action: { type: "string" },
  "target-type": { type: "string" },
  "target-id": { type: "string" },
  status: { type: "string" },
  since: { type: "string" },
  until: { type: "string" },
  service: { type: "string" },
  "request-id": { type: "string" },
  tenant: { type: "string" },
  limit: { type: "string" },
  order: { type: "string" },
  format: { type: "string" },
  ...CONNECTION_FLAGS,
} as const;

/** `auditq query --help`. */
export const help = [
  "Usage: auditq query [--actor ID] [--action A] [--since 1h|ISO] [--format table|ndjson|csv] ...",
  "",
  "Prints the stored records that match every flag given, newest first.",
  "",
  "  --actor ID             actor.id",
  "  --action A             action, exactly",
  "  --target-type T        target.type",
  "  --target-id ID         target.id",
  '  --status S             a status (404), a class (5xx), or "failed" (>= 400 or aborted)',
  "  --since T, --until T   a duration back from now (30s, 15m, 1h, 7d, 2w) or an ISO 8601 time",
  "  --service NAME         service.name",
  "  --request-id ID        request.requestId",
  "  --tenant T             tenant",
  `  --limit N              at most N records (a table: ${TABLE_LIMIT} by default; ndjson/csv: all)`,
  "  --order desc|asc       newest first (default) or oldest first",
  "  --format F             table (default), ndjson (Extended JSON) or csv",
  ...CONNECTION_SETTINGS.map((s) => `  ${s.flag.padEnd(22)} ${s.env}`),
].join("\n");

function time(flag: string, value: string, now: number): Date | string {
  const match = DURATION.exec(value);
  if (match) return new Date(now - Number(match[1]) * (UNIT_MS[match[2] as string] as number));
  if (!/^\d{4}-/.test(value)) {
    throw new ConfigError(
      `--${flag}: expected a duration (30s, 15m, 1h, 7d, 2w) or an ISO 8601 time`,
    );
  }
  return value;
}

/** The filter, format and limit from parsed flags. Throws ConfigError on bad usage. */
function readFlags(values: Record<string, string | undefined>, now: number) {
  const format = values.format ?? "table";
  if (!(FORMATS as readonly string[]).includes(format)) {
    throw new ConfigError(`--format: expected one of ${FORMATS.join(", ")}`);
  }
  const limitText = values.limit;
  if (limitText !== undefined && !/^[1-9]\d{0,8}$/.test(limitText)) {
    throw new ConfigError("--limit: expected a whole number from 1 to 999999999");
  }
  const status = values.status;
  const filter: ReadFilter = {
    actor: values.actor,
    action: values.action,
    service: values.service,
    requestId: values["request-id"],
    tenant: values.tenant,
    status:
      status !== undefined && /^\d+$/.test(status)
        ? Number(status)
        : (status as ReadFilter["status"]),
    from: values.since === undefined ? undefined : time("since", values.since, now),
    to: values.until === undefined ? undefined : time("until", values.until, now),
  };
  if (values["target-type"] !== undefined || values["target-id"] !== undefined) {
    filter.target = { type: values["target-type"], id: values["target-id"] };
  }
  const order = values.order;
  if (order !== undefined && order !== "asc" && order !== "desc") {
    throw new ConfigError("--order: expected desc or asc");
  }
  const limit =
    limitText === undefined ? (format === "table" ? TABLE_LIMIT : Infinity) : Number(limitText);
  if (format === "table" && limit > MAX_LIMIT) {
    throw new ConfigError(
      `--limit: a table shows at most ${MAX_LIMIT} records; use --format ndjson or csv for more`,
    );
  }
  return {
    filter,
    format: format as (typeof FORMATS)[number],
    limit,
    order: order as Order | undefined,
  };
}

/** Runs `read`, with a ConfigError's lines (one per bad setting) joined into one. */
function oneLine<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new ConfigError(err.message.replace(/:?\n\s*/g, "; "), { cause: err });
  }
}

async function* upTo<T>(items: AsyncIterable<T>, limit: number): AsyncGenerator<T> {
  if (limit <= 0) return;
  let n = 0;
  for await (const item of items) {
    yield item;
    if (++n >= limit) return;
  }
}

/** Runs the query, writing to `out`. Resolves to the exit code; ConfigError for bad usage. */
export async function runQuery(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  out: Writable,
): Promise<number> {
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: FLAGS,
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    // parseArgs' own message names the flag; it is the usage error to show.
    throw new ConfigError((err as Error).message.split("\n")[0] as string);
  }
  const { filter, format, limit, order } = readFlags(values, Date.now());
  const connection = oneLine(() => readConnection(env, values));
  // Loaded here, not at the top: `auditq query --help` works without mongodb installed.
  const { createReader } = await import("../../read/reader.js").catch((err: unknown) => {
    if ((err as { code?: unknown }).code !== "ERR_MODULE_NOT_FOUND") throw err;
    throw new ConfigError("auditq query needs the mongodb package: npm install mongodb", {
      cause: err,
    });
  });
  const reader = createReader({
    mongodbUri: connection.mongodbUri,
    database: connection.database,
    collection: connection.collection,
  });
  try {
    let records: AsyncIterable<Parameters<typeof recordTable>[0][number]>;
    try {
      records = upTo(reader.stream(filter, { order }), limit);
    } catch (err) {
      // A filter the reader refuses is a usage error, said in the flags' words.
      if (err instanceof QueryError) throw new ConfigError(`bad filter: ${err.message}`);
      throw err;
    }
    if (format === "table") {
      const rows = [];
      for await (const record of records) rows.push(record);
      out.write(recordTable(rows));
    } else {
      await pipeline(exportStream(records, format), out, { end: false });
    }
    return 0;
  } catch (err) {
    if (err instanceof Error && /^Mongo(ServerSelection|Network)/.test(err.name)) {
      throw new ConfigError(`cannot reach MongoDB (${err.name}): ${err.message.split("\n")[0]}`);
    }
    throw err;
  } finally {
    await reader.close();
  }
}

/** `auditq query` as the `auditq` command runs it (a `Subcommand` of auditq.ts), to stdout. */
export function run(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  return runQuery(argv, env, process.stdout);
}

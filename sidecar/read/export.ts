// Records as export lines (CSV or NDJSON) and as a Node Readable that pulls them on demand.
import { Readable } from "node:stream";
import type { Document } from "bson";
import { serializeRecord } from "../../shared/wire/record-json.js";

/** The formats `reader.export` writes. */
export type ExportFormat = "ndjson" | "csv";

/** CSV's header: fixed columns, then `meta` as JSON. */
export const CSV_COLUMNS = [
  "time",
  "id",
  "actor",
  "action",
  "target",
  "status",
  "duration",
  "request id",
  "service",
  "meta",
] as const;

// A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection").
const FORMULA_START = new Set(["=", "+", "-", "@", "\t", "\r"]);
const NEEDS_QUOTES = /[",\r\n]/;

/**
 * One CSV cell (RFC 4180): a leading formula character gets a `'` in front so that the cell
 * stays text, and a cell holding a quote, comma or line break is quoted with quotes doubled.
 */
export function csvCell(value: unknown): string {
  if (value === undefined || value === null) return "";
  let text = typeof value === "string" ? value : String(value);
  if (text.length > 0 && FORMULA_START.has(text[0] as string)) text = `'${text}`;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function isoTime(value: unknown): unknown {
  return value instanceof Date && !Number.isNaN(value.getTime()) ? value.toISOString() : value;
}

function idText(value: unknown): unknown {
  const id = value as { toHexString?: () => string } | null | undefined;
  return typeof id?.toHexString === "function" ? id.toHexString() : value;
}

/** One record as a CSV line with CRLF, in the order of {@link CSV_COLUMNS}. */
export function csvLine(record: Document): string {
  const target = record.target as { type?: unknown; id?: unknown } | undefined;
  const outcome = record.outcome as { status?: unknown; durationMs?: unknown } | undefined;
  const meta = record.meta as Document | undefined;
  const cells = [
    isoTime(record.ts),
    idText(record._id),
    (record.actor as { id?: unknown } | undefined)?.id,
    record.action,
    target ? `${target.type ?? ""}:${target.id ?? ""}` : undefined,
    outcome?.status,
    outcome?.durationMs,
    (record.request as { requestId?: unknown } | undefined)?.requestId,
    (record.service as { name?: unknown } | undefined)?.name,
    meta === undefined ? undefined : serializeRecord(meta),
  ];
  let line = csvCell(cells[0]);
  for (let i = 1; i < cells.length; i++) line += `,${csvCell(cells[i])}`;
  return `${line}\r\n`;
}

/** One record as an NDJSON line: relaxed Extended JSON (`{"$oid"}`, `{"$date"}`), then `\n`. */
export function ndjsonLine(record: Document): string {
  return `${serializeRecord(record)}\n`;
}

/** How many bytes of lines the Readable buffers before it stops pulling records. */
const HIGH_WATER_BYTES = 64 * 1024;

/**
 * A byte stream of `records` in `format`. It pulls the next record only when its reader wants
 * more (Readable.from reads the iterator on demand), so memory stays bounded by its buffer and
 * the iterator's batch, however many records match.
 */
export function exportStream(records: AsyncIterable<Document>, format: ExportFormat): Readable {
  const line = format === "csv" ? csvLine : ndjsonLine;
  async function* lines(): AsyncGenerator<string> {
    if (format === "csv") yield `${CSV_COLUMNS.map(csvCell).join(",")}\r\n`;
    for await (const record of records) yield line(record);
  }
  return Readable.from(lines(), { objectMode: false, highWaterMark: HIGH_WATER_BYTES });
}

// `auditq query`'s table: one line per record, columns padded, control characters made visible.
import type { AuditRecord } from "../../../shared/wire/record.js";

const COLUMNS = ["time", "actor", "action", "target", "status", "ms", "request id"] as const;
const MAX_CELL = 48;
// A record's text may hold terminal escape sequences; printed raw they could rewrite the screen.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

function cell(value: unknown): string {
  if (value === undefined || value === null) return "";
  const text = String(value).replace(
    CONTROL,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
  return text.length > MAX_CELL ? `${text.slice(0, MAX_CELL - 1)}…` : text;
}

function row(record: AuditRecord): string[] {
  const ts = record.ts instanceof Date ? record.ts.toISOString() : record.ts;
  const target = record.target ? `${record.target.type}:${record.target.id}` : "";
  return [
    ts,
    record.actor?.id,
    record.action,
    target,
    record.outcome?.status,
    record.outcome?.durationMs,
    record.request?.requestId,
  ].map(cell);
}

/** `records` as a text table with a header, or a line saying there were none. */
export function recordTable(records: readonly AuditRecord[]): string {
  if (records.length === 0) return "(no records match)\n";
  const rows = [[...COLUMNS], ...records.map(row)];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  const lines = rows.map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i] as number))
      .join("  ")
      .trimEnd(),
  );
  return `${lines.join("\n")}\n`;
}

// Fits a built record into `maxRecordBytes`: its largest variable fields give way to markers.
import { EJSON } from "bson";
import type {
  AuditChange,
  AuditOutcome,
  AuditRecord,
  AuditRequest,
} from "../../shared/wire/record.js";
import { utf8Bytes } from "../../shared/wire/sqs-limits.js";
import { MARKER_PREFIX } from "./sanitize.js";

function jsonBytes(value: unknown): number {
  return utf8Bytes(EJSON.stringify([value], { relaxed: true })) - 2;
}

type Slot = { path: string; get(): unknown; set(value: string): void };

/** Bytes of paths kept when `changes` is trimmed: the rest of the list gives way to a marker. */
const TRIMMED_CHANGES_PATH_BYTES = 4096;

/**
 * `changes` trimmed: every `from` and `to` dropped, and the paths kept within a few KiB; the
 * last entry's path is the marker (`[auditq: trimmed N bytes]`), so a reader sees the cut.
 */
function withoutValues(changes: AuditChange[] | undefined, marker: string): AuditChange[] {
  const out: AuditChange[] = [];
  let bytes = 0;
  for (const { path, op } of changes ?? []) {
    bytes += path.length + 8;
    if (bytes > TRIMMED_CHANGES_PATH_BYTES) break;
    out.push({ path, op });
  }
  out.push({ path: marker, op: "replace" });
  return out;
}

/**
 * Replaces the record's largest variable fields by a marker, one at a time, until its
 * serialized size is within `maxBytes`. Returns the record paths it replaced, and lists them
 * in `record.trimmed`.
 */
export function trimToFit(record: AuditRecord, maxBytes: number): string[] {
  let total = jsonBytes(record);
  if (total <= maxBytes) return [];
  // A record of `audit.record()` has no request, and may have no outcome.
  const r: Partial<AuditRequest> = record.request ?? {};
  const o: Partial<AuditOutcome> = record.outcome ?? {};
  const slots: Slot[] = [
    { path: "request.body", get: () => r.body, set: (v) => (r.body = v) },
    { path: "meta", get: () => record.meta, set: (v) => (record.meta = { trimmed: v }) },
    { path: "request.query", get: () => r.query, set: (v) => (r.query = { trimmed: v }) },
    { path: "request.params", get: () => r.params, set: (v) => (r.params = { trimmed: v }) },
    { path: "request.headers", get: () => r.headers, set: (v) => (r.headers = { trimmed: v }) },
    { path: "outcome.errorStack", get: () => o.errorStack, set: (v) => (o.errorStack = v) },
    { path: "outcome.error", get: () => o.error, set: (v) => (o.error = v) },
    {
      path: "changes",
      get: () => record.changes,
      set: (v) => (record.changes = withoutValues(record.changes, v)),
    },
  ];
  const sized = slots
    .filter((slot) => slot.get() !== undefined)
    .map((slot) => ({ slot, bytes: jsonBytes(slot.get()) }))
    .sort((a, b) => b.bytes - a.bytes);
  const done: string[] = [];
  for (const { slot, bytes } of sized) {
    if (total <= maxBytes) break;
    slot.set(`${MARKER_PREFIX}trimmed ${bytes} bytes]`);
    done.push(slot.path);
    record.trimmed = done;
    total = jsonBytes(record);
  }
  return done;
}

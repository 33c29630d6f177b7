// Fits a built record into `maxRecordBytes`: its largest variable fields give way to markers.
import { EJSON } from "bson";
import type { AuditRecord } from "../../shared/wire/record.js";
import { utf8Bytes } from "../../shared/wire/sqs-limits.js";
import { MARKER_PREFIX } from "./sanitize.js";

function jsonBytes(value: unknown): number {
  return utf8Bytes(EJSON.stringify([value], { relaxed: true })) - 2;
}

type Slot = { path: string; get(): unknown; set(value: string): void };

/**
 * Replaces the record's largest variable fields by a marker, one at a time, until its
 * serialized size is within `maxBytes`. Returns the record paths it replaced, and lists them
 * in `record.trimmed`.
 */
export function trimToFit(record: AuditRecord, maxBytes: number): string[] {
  let total = jsonBytes(record);
  if (total <= maxBytes) return [];
  const r = record.request;
  const o = record.outcome;
  const slots: Slot[] = [
    { path: "request.body", get: () => r.body, set: (v) => (r.body = v) },
    { path: "meta", get: () => record.meta, set: (v) => (record.meta = { trimmed: v }) },
    { path: "request.query", get: () => r.query, set: (v) => (r.query = { trimmed: v }) },
    { path: "request.params", get: () => r.params, set: (v) => (r.params = { trimmed: v }) },
    { path: "request.headers", get: () => r.headers, set: (v) => (r.headers = { trimmed: v }) },
    { path: "outcome.errorStack", get: () => o.errorStack, set: (v) => (o.errorStack = v) },
    { path: "outcome.error", get: () => o.error, set: (v) => (o.error = v) },
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

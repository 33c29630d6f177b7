// A captured record as Extended JSON text, written directly for the shape capture builds.
//
// The generic serializer of any record (shared/wire/record-json.ts) walks the whole record to
// find its ObjectId and Dates, copies the top level to replace them, then has JSON.stringify
// walk it all again. A captured record's top two levels are auditq's own (ids, timestamps, short
// strings, numbers), so they are written here as text in one pass; what the app or the client
// controls (query, params, headers, body, meta, anything unexpected) keeps the generic walk and
// its EJSON fallback. Whatever the record holds, the text is byte for byte what
// `EJSON.stringify(record, { relaxed: true })` writes (known-shape-json.test.ts checks it).
import { EJSON, ObjectId } from "bson";
import type { AuditRecord } from "../../shared/wire/record.js";
import { isoDateJson, serializeRecord, valueJson } from "../../shared/wire/record-json.js";

/** Top-level fields of a record that are auditq's own objects of scalars, written here too. */
const OWN_OBJECTS: ReadonlySet<string> = new Set([
  "actor",
  "request",
  "outcome",
  "service",
  "target",
  "causedBy",
  "seq",
]);

/** The keys a captured record has, whose `"key":` and `,"key":` are made once. */
const KNOWN_KEYS: readonly string[] = [
  ...["_id", "v", "source", "ts", "action", "meta", "trimmed", "captureError"],
  ...["tenant", "changes", "stream", "n"],
  ...OWN_OBJECTS,
  ...["id", "type", "ip", "userAgent"],
  ...["method", "path", "route", "requestId", "params", "query", "headers", "body"],
  ...["status", "durationMs", "aborted", "error", "errorStack"],
  ...["name", "version", "host", "pid"],
  ...["op", "from", "to"],
];
const KEY_TEXT = new Map<string, string>(KNOWN_KEYS.map((key) => [key, `${JSON.stringify(key)}:`]));
const NEXT_KEY_TEXT = new Map<string, string>(
  KNOWN_KEYS.map((key) => [key, `,${JSON.stringify(key)}:`]),
);

/** `"key":`, or `,"key":` after the first key of an object. */
function keyText(key: string, first: boolean): string {
  const made = (first ? KEY_TEXT : NEXT_KEY_TEXT).get(key);
  if (made !== undefined) return made;
  return first ? `${JSON.stringify(key)}:` : `,${JSON.stringify(key)}:`;
}

/** Longer strings go to JSON.stringify directly: the scan below only pays off on short ones. */
const SCAN_MAX_CHARS = 128;

/**
 * A string as JSON text: as it is in quotes when nothing in it needs an escape (the common
 * case for ids, paths and header values), else JSON.stringify's escapes (control characters,
 * quote, backslash, lone surrogates).
 */
function stringText(text: string): string {
  if (text.length > SCAN_MAX_CHARS) return JSON.stringify(text);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) {
      return JSON.stringify(text);
    }
  }
  return `"${text}"`;
}

/** Whether JSON.stringify and EJSON see `value` as a plain object whose keys are its fields. */
function isPlainObject(value: object): value is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value);
  return (
    (proto === Object.prototype || proto === null) &&
    (value as { toJSON?: unknown }).toJSON === undefined &&
    (value as { _bsontype?: unknown })._bsontype === undefined
  );
}

/**
 * `value` as text at depth `depth` of the record; undefined when EJSON leaves its key out.
 * Scalars, the ObjectId and in-range Dates directly; auditq's own objects key by key; the rest
 * through the generic walk.
 */
function valueText(value: unknown, depth: number, ownObject: boolean): string | undefined {
  switch (typeof value) {
    case "string":
      return stringText(value);
    case "number":
      // A finite number's JSON text is its String() (-0 included: "0"); NaN and ±Infinity are
      // written as EJSON writes them.
      return Number.isFinite(value) ? String(value) : valueJson(value, depth);
    case "boolean":
      return value ? "true" : "false";
    case "undefined":
      // EJSON writes an undefined field as null (its ignoreUndefined is off).
      return "null";
    case "object": {
      if (value === null) return "null";
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto === ObjectId.prototype) return `{"$oid":"${(value as ObjectId).toHexString()}"}`;
      if (proto === Date.prototype) return isoDateJson(value as Date) ?? valueJson(value, depth);
      if (ownObject && isPlainObject(value)) return objectText(value, depth, false);
      return valueJson(value, depth);
    }
    default:
      return valueJson(value, depth);
  }
}

/**
 * A plain object key by key; `ownChildren`: its fields named in OWN_OBJECTS are written so too.
 * `for…in` rather than Object.keys: no array of keys per object, and V8 reads `obj[key]` in it
 * through the object's enumeration cache instead of a lookup by name at a site that sees every
 * object and key of the record. It also visits inherited enumerable keys, which JSON leaves
 * out: capturedRecordJson takes this path only while Object.prototype has none, and the
 * objects written here have no other prototype (isPlainObject).
 */
function objectText(obj: Record<string, unknown>, depth: number, ownChildren: boolean): string {
  let out = "{";
  let first = true;
  for (const key in obj) {
    const text = valueText(obj[key], depth + 1, ownChildren && OWN_OBJECTS.has(key));
    if (text === undefined) continue;
    out += keyText(key, first) + text;
    first = false;
  }
  return `${out}}`;
}

/** Whether any object's `for…in` would also visit keys JSON leaves out (see objectText). */
function objectPrototypeHasEnumerables(): boolean {
  for (const _ in Object.prototype) return true;
  return false;
}

/**
 * A record built by capture (full or minimal) as relaxed Extended JSON text, byte for byte what
 * `EJSON.stringify(record, { relaxed: true })` writes, and the error it throws when it throws.
 */
export function capturedRecordJson(record: AuditRecord): string {
  // A toJSON on Object.prototype would change what JSON.stringify writes for every object.
  if ("toJSON" in Object.prototype || objectPrototypeHasEnumerables() || !isPlainObject(record)) {
    return serializeRecord(record);
  }
  try {
    return objectText(record as unknown as Record<string, unknown>, 0, true);
  } catch {
    // A circular structure or a getter that throws: EJSON's own error, with its own path.
    return EJSON.stringify(record, { relaxed: true });
  }
}

// Turns arbitrary app data into values MongoDB and Extended JSON take as plain data: escaped
// keys, censored secrets, markers for what JSON cannot hold, and a size budget.
import { ObjectId } from "bson";
import { censorUrlCredentials } from "../../shared/util/url-credentials.js";
import type { KeyMatcher } from "./redact/secret-keys.js";

/** Prefix of every marker auditq puts in place of a value it did not keep. */
export const MARKER_PREFIX = "[auditq: ";

/** `text` cut to `max` characters, with a marker saying so. */
export function bounded(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}${MARKER_PREFIX}truncated]`;
}

/** Key added to an object, or item added to an array, whose tail was cut by a byte budget. */
export const TRUNCATED_KEY = "[auditq: truncated]";

/** Key of the object that holds an array found directly inside an array. */
const NESTED_ARRAY_KEY = "[auditq: array]";

// Keys that would be read as operators or paths by MongoDB, as types by Extended JSON/BSON
// (`$oid`, `_bsontype`), or as prototypes by JavaScript code that copies records.
const RESERVED_KEYS = new Set(["__proto__", "constructor", "prototype", "_bsontype"]);
const NEEDS_ESCAPE = /[%.\0]|^\$/;
const ESCAPE_CHARS = /[%.\0]|^\$/g;

function percent(char: string): string {
  return `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`;
}

/**
 * Escapes an object key for MongoDB, reversibly: `%` → `%25`, `.` → `%2E`, NUL → `%00`, a
 * leading `$` → `%24`, the empty key → `%`, and the first character of `__proto__`,
 * `constructor`, `prototype` and `_bsontype` likewise (`%5F_proto__`). Other keys are unchanged.
 */
export function escapeKey(key: string): string {
  if (key === "") return "%";
  if (RESERVED_KEYS.has(key)) return percent(key.charAt(0)) + key.slice(1);
  return NEEDS_ESCAPE.test(key) ? key.replace(ESCAPE_CHARS, percent) : key;
}

/** The inverse of {@link escapeKey}: gives back the key the app used. */
export function unescapeKey(key: string): string {
  if (key === "%") return "";
  return key.includes("%")
    ? key.replace(/%([0-9A-F]{2})/g, (_, hex: string) =>
        String.fromCharCode(Number.parseInt(hex, 16)),
      )
    : key;
}

export interface SanitizeRules {
  /** Values under keys matching this are replaced by `censor`, whatever they hold. */
  redactKeys: KeyMatcher | null;
  censor: string;
  /** Nesting deeper than this becomes a marker. */
  maxDepth: number;
}

/** Approximate serialized size of what was kept, and whether anything was cut. */
export interface SanitizeState {
  budget: number;
  used: number;
  truncated: boolean;
  redacted: boolean;
}

export function newState(budget: number): SanitizeState {
  return { budget, used: 0, truncated: false, redacted: false };
}

function typeName(value: object): string {
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === "string" && name !== "" ? name : "Object";
}

function isBsonObjectId(value: object): value is { toHexString(): string } {
  return (
    (value as { _bsontype?: unknown })._bsontype === "ObjectId" &&
    typeof (value as { toHexString?: unknown }).toHexString === "function"
  );
}

/**
 * Copies `value` into plain JSON-safe data within `state.budget` bytes (UTF-8 of strings and
 * keys plus punctuation, JSON escapes not counted). Never throws: what cannot be kept becomes
 * a `[auditq: …]` marker string.
 */
export function sanitize(value: unknown, rules: SanitizeRules, state: SanitizeState): unknown {
  return walk(value, rules, state, 0, []);
}

function spend(state: SanitizeState, bytes: number): void {
  state.used += bytes;
}

function left(state: SanitizeState): number {
  return state.budget - state.used;
}

function str(text: string, state: SanitizeState): string {
  const bytes = Buffer.byteLength(text, "utf8") + 2;
  if (bytes <= left(state)) {
    spend(state, bytes);
    return text;
  }
  state.truncated = true;
  // Cut by characters, a safe over-estimate of bytes; never split a surrogate pair.
  let keep = Math.max(0, left(state) - 2 - TRUNCATED_KEY.length);
  if (keep > 0 && keep < text.length) {
    const code = text.charCodeAt(keep - 1);
    if (code >= 0xd800 && code <= 0xdbff) keep -= 1;
  }
  const out = text.slice(0, keep) + TRUNCATED_KEY;
  spend(state, Buffer.byteLength(out, "utf8") + 2);
  return out;
}

function marker(text: string, state: SanitizeState): string {
  const out = `${MARKER_PREFIX}${text}]`;
  spend(state, out.length + 2);
  return out;
}

function walk(
  value: unknown,
  rules: SanitizeRules,
  state: SanitizeState,
  depth: number,
  ancestors: object[],
): unknown {
  switch (typeof value) {
    case "string":
      // A connection string in any value: its credentials go, the rest of it stays.
      return str(censorUrlCredentials(value, rules.censor), state);
    case "number":
      // NaN and ±Infinity: MongoDB keeps them, FerretDB's SQLite storage rejects the document.
      if (!Number.isFinite(value)) return str(String(value), state);
      spend(state, 8);
      return value;
    case "boolean":
      spend(state, 5);
      return value;
    case "undefined":
      spend(state, 4);
      return null;
    case "bigint":
      return str(value.toString(), state);
    case "symbol":
      return marker("symbol", state);
    case "function":
      return marker("function", state);
  }
  if (value === null) {
    spend(state, 4);
    return null;
  }
  const obj = value as object;
  try {
    if (obj instanceof Date) {
      spend(state, 32);
      return Number.isNaN(obj.getTime()) ? marker("invalid date", state) : new Date(obj.getTime());
    }
    if (isBsonObjectId(obj)) {
      spend(state, 36);
      return new ObjectId(obj.toHexString());
    }
    if (ArrayBuffer.isView(obj) || obj instanceof ArrayBuffer) {
      return marker(`${typeName(obj)} of ${obj.byteLength} bytes`, state);
    }
    if (obj instanceof Map || obj instanceof Set) {
      return marker(`${typeName(obj)} of ${obj.size} entries`, state);
    }
    if (obj instanceof Promise || obj instanceof WeakMap || obj instanceof WeakSet) {
      return marker(typeName(obj), state);
    }
    if (ancestors.includes(obj)) return marker("circular", state);
    if (depth >= rules.maxDepth) return marker("too deep", state);
    if (!Array.isArray(obj) && typeof (obj as { toJSON?: unknown }).toJSON === "function") {
      const json: unknown = (obj as { toJSON(): unknown }).toJSON();
      // toJSON returning another object with toJSON is followed once, not forever.
      return typeof json === "object" && json !== null
        ? walkObject(json, rules, state, depth, ancestors)
        : walk(json, rules, state, depth + 1, ancestors);
    }
    return walkObject(obj, rules, state, depth, ancestors);
  } catch (err) {
    // A getter, Proxy trap or toJSON threw: keep what it was, not what it holds.
    return marker(`unreadable: ${err instanceof Error ? err.name : typeof err}`, state);
  }
}

function walkObject(
  obj: object,
  rules: SanitizeRules,
  state: SanitizeState,
  depth: number,
  ancestors: object[],
): unknown {
  ancestors.push(obj);
  try {
    spend(state, 2);
    if (Array.isArray(obj)) {
      const out: unknown[] = [];
      for (let i = 0; i < obj.length; i++) {
        if (left(state) <= 0) {
          state.truncated = true;
          out.push(`${TRUNCATED_KEY} ${obj.length - i} more items`);
          break;
        }
        spend(state, 1);
        const item = walk(obj[i], rules, state, depth + 1, ancestors);
        // FerretDB (and other MongoDB-compatible stores) reject an array directly inside an
        // array; one key of wrapping keeps the record storable everywhere.
        out.push(Array.isArray(item) ? { [NESTED_ARRAY_KEY]: item } : item);
      }
      return out;
    }
    const out: Record<string, unknown> = {};
    const keys = Object.keys(obj);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      if (left(state) <= 0) {
        state.truncated = true;
        out[TRUNCATED_KEY] = `${keys.length - i} more keys`;
        break;
      }
      const safeKey = escapeKey(key);
      spend(state, Buffer.byteLength(safeKey, "utf8") + 4);
      if (rules.redactKeys?.test(key)) {
        state.redacted = true;
        out[safeKey] = str(rules.censor, state);
        continue;
      }
      out[safeKey] = walk(
        (obj as Record<string, unknown>)[key],
        rules,
        state,
        depth + 1,
        ancestors,
      );
    }
    return out;
  } finally {
    ancestors.pop();
  }
}

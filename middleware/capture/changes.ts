// `req.audit.change(before, after)`: a copy of both values taken at the call, and, when the
// response ends, what changed between them as JSON-Patch-like changes, redacted and bounded.
import { ObjectId } from "bson";
import type { AuditChange } from "../../shared/wire/record.js";
import { SQS_MAX_MESSAGE_BYTES } from "../../shared/wire/sqs-limits.js";
import {
  MARKER_PREFIX,
  newState,
  type SanitizeRules,
  type SanitizeState,
  sanitize,
} from "./sanitize.js";

/** Both values of one `change()` call, as copied at the call. */
export interface ChangePair {
  before: unknown;
  after: unknown;
}

/** No record holds more than one SQS message: a copy stops there. */
const SNAPSHOT_MAX_BYTES = SQS_MAX_MESSAGE_BYTES;
const SNAPSHOT_MAX_DEPTH = 32;

/** The path of the entry that says the list of changes was cut by `maxRecordBytes`. */
export const CHANGES_TRUNCATED = `${MARKER_PREFIX}truncated]`;

interface Budget {
  left: number;
}

function isPlainData(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * A copy of `value` as JSON sees it, so that the app changing it after the call changes
 * nothing: plain objects (own enumerable keys) and arrays copied, `toJSON` followed, Dates and
 * ObjectIds copied, keys whose value is undefined, a function or a symbol left out (null in
 * arrays). Cycles, depth past 32, other objects (Map, Set, buffers) and what cannot be read
 * become `[auditq: …]` markers; past 1 MiB the rest is cut. Never throws. Secrets are still in
 * the copy: it lives in memory until the response ends and is redacted then.
 */
export function snapshot(value: unknown): unknown {
  return copy(value, { left: SNAPSHOT_MAX_BYTES }, []);
}

function copy(value: unknown, budget: Budget, ancestors: object[]): unknown {
  switch (typeof value) {
    case "string":
      budget.left -= value.length + 2;
      return value;
    case "number":
    case "boolean":
      budget.left -= 8;
      return value;
    case "bigint":
      return value.toString();
    case "undefined":
    case "function":
    case "symbol":
      return undefined;
  }
  if (value === null) return null;
  const obj = value as object;
  try {
    if (obj instanceof Date) return new Date(obj.getTime());
    if ((obj as { _bsontype?: unknown })._bsontype === "ObjectId") {
      return new ObjectId((obj as ObjectId).toHexString());
    }
    if (ancestors.includes(obj)) return `${MARKER_PREFIX}circular]`;
    if (ancestors.length >= SNAPSHOT_MAX_DEPTH) return `${MARKER_PREFIX}too deep]`;
    if (!Array.isArray(obj) && typeof (obj as { toJSON?: unknown }).toJSON === "function") {
      const json: unknown = (obj as { toJSON(): unknown }).toJSON();
      if (json === obj) return `${MARKER_PREFIX}unreadable]`;
      ancestors.push(obj);
      try {
        return copy(json, budget, ancestors);
      } finally {
        ancestors.pop();
      }
    }
    if (!Array.isArray(obj) && !isPlainData(obj)) {
      const name = (obj as { constructor?: { name?: unknown } }).constructor?.name;
      return `${MARKER_PREFIX}${typeof name === "string" ? name : "object"}]`;
    }
    return copyContainer(obj, budget, ancestors);
  } catch (err) {
    // A getter, Proxy trap or toJSON threw: keep that it was unreadable, not what it holds.
    return `${MARKER_PREFIX}unreadable: ${err instanceof Error ? err.name : typeof err}]`;
  }
}

function copyContainer(obj: object, budget: Budget, ancestors: object[]): unknown {
  ancestors.push(obj);
  try {
    if (Array.isArray(obj)) {
      const out: unknown[] = [];
      for (let i = 0; i < obj.length && budget.left > 0; i++) {
        budget.left -= 1;
        out.push(copy(obj[i], budget, ancestors) ?? null);
      }
      return out;
    }
    const out: Record<string, unknown> = Object.create(null);
    for (const key of Object.keys(obj)) {
      if (budget.left <= 0) break;
      budget.left -= key.length + 4;
      const item = copy((obj as Record<string, unknown>)[key], budget, ancestors);
      if (item !== undefined) out[key] = item;
    }
    return out;
  } finally {
    ancestors.pop();
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Date) &&
    !(value instanceof ObjectId)
  );
}

/** Whether two copies made by {@link snapshot} hold the same data. */
function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (a instanceof Date && b instanceof Date) return Object.is(a.getTime(), b.getTime());
  if (a instanceof ObjectId && b instanceof ObjectId) return a.equals(b);
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => sameValue(item, b[i]));
  }
  if (isRecord(a) && isRecord(b)) {
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    return keys.every((key) => Object.hasOwn(b, key) && sameValue(a[key], b[key]));
  }
  return false;
}

/** A key as one JSON Pointer segment (RFC 6901): `~` as `~0`, `/` as `~1`. */
function pointerSegment(key: string): string {
  return key.replaceAll("~", "~0").replaceAll("/", "~1");
}

/** Builds the changes of pairs within one sanitize budget. */
class Differ {
  readonly changes: AuditChange[] = [];
  readonly state: SanitizeState;
  private cut = false;

  constructor(
    private readonly rules: SanitizeRules,
    budget: number,
  ) {
    this.state = newState(budget);
  }

  /** One change; under a redacted key (`secret`), only its path and op. */
  private emit(path: string, op: AuditChange["op"], from: unknown, to: unknown, secret: boolean) {
    if (this.cut) return;
    if (this.state.used >= this.state.budget) {
      this.cut = true;
      this.state.truncated = true;
      this.changes.push({ path: CHANGES_TRUNCATED, op: "replace" });
      return;
    }
    this.state.used += path.length + 24;
    const change: AuditChange = { path, op };
    if (secret) this.state.redacted = true;
    else {
      if (op !== "add") change.from = sanitize(from, this.rules, this.state);
      if (op !== "remove") change.to = sanitize(to, this.rules, this.state);
    }
    this.changes.push(change);
  }

  /** The changes from `a` to `b` at `path`; `secret`: a key on the way is redacted. */
  walk(path: string, a: unknown, b: unknown, secret: boolean): void {
    // Only at the top: a copy holds no undefined inside (such keys are left out).
    if (a === undefined || b === undefined) {
      if (a !== undefined) this.emit(path, "remove", a, undefined, secret);
      else if (b !== undefined) this.emit(path, "add", undefined, b, secret);
      return;
    }
    if (isRecord(a) && isRecord(b) && !secret) {
      for (const key of Object.keys(a)) {
        const at = `${path}/${pointerSegment(key)}`;
        const hidden = this.rules.redactKeys?.test(key) === true;
        if (Object.hasOwn(b, key)) this.walk(at, a[key], b[key], hidden);
        else this.emit(at, "remove", a[key], undefined, hidden);
      }
      for (const key of Object.keys(b)) {
        if (Object.hasOwn(a, key)) continue;
        const hidden = this.rules.redactKeys?.test(key) === true;
        this.emit(`${path}/${pointerSegment(key)}`, "add", undefined, b[key], hidden);
      }
      return;
    }
    if (Array.isArray(a) && Array.isArray(b) && !secret) {
      const common = Math.min(a.length, b.length);
      for (let i = 0; i < common; i++) this.walk(`${path}/${i}`, a[i], b[i], false);
      for (let i = common; i < b.length; i++)
        this.emit(`${path}/${i}`, "add", undefined, b[i], false);
      // Removed from the end first, so that the list applies in order as a JSON Patch does.
      for (let i = a.length - 1; i >= common; i--) {
        this.emit(`${path}/${i}`, "remove", a[i], undefined, false);
      }
      return;
    }
    if (!sameValue(a, b)) this.emit(path, "replace", a, b, secret);
  }
}

/**
 * What changed in each pair, in call order: objects compared key by key, arrays index by
 * index, anything else as a whole (`replace`). A path through a key the redaction rules match
 * keeps its `op` and loses `from` and `to`; values are sanitized (nested secrets censored) within
 * `budget` bytes, past which the list ends with a `[auditq: truncated]` entry.
 */
export function diffChanges(
  pairs: readonly ChangePair[],
  rules: SanitizeRules,
  budget: number,
): { changes: AuditChange[]; state: SanitizeState } {
  const differ = new Differ(rules, budget);
  for (const { before, after } of pairs) differ.walk("", before, after, false);
  return { changes: differ.changes, state: differ.state };
}

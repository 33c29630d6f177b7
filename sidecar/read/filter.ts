// A reader's filter: checked field by field and turned into plain literals, or refused.
import { QueryError } from "./query-error.js";

/** An HTTP status class: `"2xx"` is 200–299. */
export type StatusClass = "1xx" | "2xx" | "3xx" | "4xx" | "5xx";

/** What to read. Every field is optional; given fields must all match (AND). */
export interface ReadFilter {
  /** `actor.id`, exactly. */
  actor?: string | undefined;
  /** `action`, exactly (`"POST /orders/:id"` or a name the app gave). */
  action?: string | undefined;
  /** `target.type` and/or `target.id`, exactly. */
  target?: { type?: string | undefined; id?: string | undefined } | undefined;
  /** A status (`404`), a class (`"5xx"`), or `"failed"`: status ≥ 400 or the client went away. */
  status?: number | StatusClass | "failed" | undefined;
  /** Records whose `ts` is at or after this time (a Date or an ISO 8601 string). */
  from?: Date | string | undefined;
  /** Records whose `ts` is before this time (exclusive). */
  to?: Date | string | undefined;
  /** `service.name`, exactly. */
  service?: string | undefined;
  /** `request.requestId`, exactly. */
  requestId?: string | undefined;
  /** `tenant`, exactly. A reader bound to a tenant refuses any other. */
  tenant?: string | undefined;
}

/** A filter after checking: literals only, times as Dates. */
export interface NormalizedFilter {
  readonly actor?: string;
  readonly action?: string;
  readonly targetType?: string;
  readonly targetId?: string;
  readonly status?: number | StatusClass | "failed";
  readonly from?: Date;
  readonly to?: Date;
  readonly service?: string;
  readonly requestId?: string;
  readonly tenant?: string;
}

/** The fields a filter may have. */
export const FILTER_FIELDS = [
  "actor",
  "action",
  "target",
  "status",
  "from",
  "to",
  "service",
  "requestId",
  "tenant",
] as const satisfies readonly (keyof ReadFilter)[];

/** The longest string a filter value may be; ids and names are far shorter. */
const MAX_VALUE_CHARS = 1024;

const STATUS_CLASSES: readonly string[] = ["1xx", "2xx", "3xx", "4xx", "5xx"];
// Dates, or date-times with a zone: a time without one would mean the server's local time.
const ISO_TIME =
  /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2}))?$/;

/** Whether `value` is a plain object (not an array, a Date, a class instance). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (value instanceof Date) return "a Date";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/** A plain-text literal: a non-empty string within bounds that cannot pass for an operator. */
export function literal(field: string, value: unknown): string {
  if (typeof value !== "string") {
    throw new QueryError(field, `expected a string, got ${describe(value)}`);
  }
  if (value.length === 0) throw new QueryError(field, "expected a non-empty string");
  if (value.length > MAX_VALUE_CHARS) {
    throw new QueryError(field, `longer than ${MAX_VALUE_CHARS} characters`);
  }
  const first = value.trimStart()[0];
  if (first === "$" || first === "{") {
    throw new QueryError(
      field,
      'values are matched literally; one starting with "$" or "{" looks like a query operator and is refused',
    );
  }
  return value;
}

function time(field: string, value: unknown): Date {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new QueryError(field, "an invalid Date");
    return value;
  }
  if (typeof value !== "string" || value.length > 40 || !ISO_TIME.test(value)) {
    throw new QueryError(
      field,
      "expected a Date or an ISO 8601 string (2026-01-31 or 2026-01-31T12:00:00Z, with a zone)",
    );
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new QueryError(field, "not a real date");
  return date;
}

function status(value: unknown): NonNullable<NormalizedFilter["status"]> {
  if (typeof value === "number") {
    if (Number.isInteger(value) && value >= 100 && value <= 599) return value;
    throw new QueryError("status", "expected an integer from 100 to 599");
  }
  if (typeof value === "string" && (value === "failed" || STATUS_CLASSES.includes(value))) {
    return value as StatusClass | "failed";
  }
  throw new QueryError("status", 'expected a number, "1xx" to "5xx", or "failed"');
}

function target(value: unknown): { targetType?: string; targetId?: string } {
  if (!isPlainObject(value)) {
    throw new QueryError("target", `expected { type?, id }, got ${describe(value)}`);
  }
  const out: { targetType?: string; targetId?: string } = {};
  for (const [key, part] of Object.entries(value)) {
    if (part === undefined) continue;
    if (key === "type") out.targetType = literal("target.type", part);
    else if (key === "id") out.targetId = literal("target.id", part);
    else throw new QueryError(`target.${key}`, "unknown field; target has type and id");
  }
  if (out.targetType === undefined && out.targetId === undefined) {
    throw new QueryError("target", "give type, id or both");
  }
  return out;
}

/**
 * Checks `input` and returns its normalized form. A reader bound to `boundTenant` adds it, and
 * refuses a filter naming another tenant. Throws QueryError on anything else.
 */
export function normalizeFilter(input: unknown, boundTenant?: string): NormalizedFilter {
  const filter = input ?? {};
  if (!isPlainObject(filter)) {
    throw new QueryError("filter", `expected an object, got ${describe(filter)}`);
  }
  const out: {
    -readonly [K in keyof NormalizedFilter]: NormalizedFilter[K];
  } = {};
  for (const [key, value] of Object.entries(filter)) {
    if (value === undefined) continue;
    switch (key) {
      case "actor":
      case "action":
      case "service":
      case "requestId":
      case "tenant":
        out[key] = literal(key, value);
        break;
      case "target":
        Object.assign(out, target(value));
        break;
      case "status":
        out.status = status(value);
        break;
      case "from":
      case "to":
        out[key] = time(key, value);
        break;
      default:
        throw new QueryError(
          key.length > 64 ? `${key.slice(0, 64)}…` : key,
          `unknown filter field; known: ${FILTER_FIELDS.join(", ")}`,
        );
    }
  }
  if (out.from && out.to && out.from.getTime() > out.to.getTime()) {
    throw new QueryError("from", "is after to");
  }
  if (boundTenant !== undefined) {
    if (out.tenant !== undefined && out.tenant !== boundTenant) {
      throw new QueryError("tenant", "this reader is bound to another tenant");
    }
    out.tenant = boundTenant;
  }
  return out;
}

/** The filter as canonical text (fixed key order, times in ISO), for cursors to be tied to. */
export function filterKey(filter: NormalizedFilter): string {
  return JSON.stringify([
    filter.actor ?? null,
    filter.action ?? null,
    filter.targetType ?? null,
    filter.targetId ?? null,
    filter.status ?? null,
    filter.from?.toISOString() ?? null,
    filter.to?.toISOString() ?? null,
    filter.service ?? null,
    filter.requestId ?? null,
    filter.tenant ?? null,
  ]);
}

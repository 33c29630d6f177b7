// A viewer's scope: the filter from `scope(req)` that the page's parameters may narrow, never widen.
import { type NormalizedFilter, normalizeFilter } from "../read/filter.js";
import type { ReadFilter } from "../read/index.js";

/**
 * A page parameter that contradicts the scope: it asks for records the viewer may not show
 * (HTTP 403). Its message names the field, never a value.
 */
export class OutOfScopeError extends Error {
  override name = "OutOfScopeError";
  readonly field: string;
  constructor(field: string, why: string) {
    super(`${field}: ${why}`);
    this.field = field;
  }
}

const EXACT = [
  "actor",
  "action",
  "targetType",
  "targetId",
  "service",
  "requestId",
  "tenant",
] as const satisfies readonly (keyof NormalizedFilter)[];

/** What `scope(req)` returned, checked: an app's mistake here is a server error, not a 400. */
export function checkScope(value: unknown): NormalizedFilter {
  if (value === undefined || value === null) {
    throw new Error(
      "auditViewer: scope(req) returned nothing; return {} to show every record, or a filter",
    );
  }
  try {
    return normalizeFilter(value);
  } catch (err) {
    // The app's scope function made a filter the reader refuses: a bug in the app, said so.
    throw new Error(`auditViewer: scope(req) returned a bad filter: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/**
 * The page's filter within `scope`: each exact field the page gives must equal the scope's, when
 * the scope has one; `from` may only be later than the scope's, `to` only earlier; `status` must
 * equal the scope's. Throws OutOfScopeError otherwise, and QueryError for a bad page filter.
 */
export function withinScope(page: ReadFilter, scope: NormalizedFilter): ReadFilter {
  const asked = normalizeFilter(page);
  const merged: { -readonly [K in keyof NormalizedFilter]: NormalizedFilter[K] } = { ...asked };
  for (const key of EXACT) {
    const bound = scope[key];
    if (bound === undefined) continue;
    if (asked[key] !== undefined && asked[key] !== bound) {
      throw new OutOfScopeError(key, "outside the records this viewer may show");
    }
    merged[key] = bound;
  }
  if (scope.status !== undefined) {
    if (asked.status !== undefined && asked.status !== scope.status) {
      throw new OutOfScopeError("status", "outside the records this viewer may show");
    }
    merged.status = scope.status;
  }
  if (scope.from !== undefined) {
    if (asked.from !== undefined && asked.from < scope.from) {
      throw new OutOfScopeError("from", "earlier than this viewer may show");
    }
    merged.from = asked.from ?? scope.from;
  }
  if (scope.to !== undefined) {
    if (asked.to !== undefined && asked.to > scope.to) {
      throw new OutOfScopeError("to", "later than this viewer may show");
    }
    merged.to = asked.to ?? scope.to;
  }
  return toReadFilter(merged);
}

/** A normalized filter back in the reader's input shape (`target` as one object). */
function toReadFilter(filter: NormalizedFilter): ReadFilter {
  const { targetType, targetId, ...rest } = filter;
  const out: ReadFilter = { ...rest };
  if (targetType !== undefined || targetId !== undefined) {
    out.target = {
      ...(targetType === undefined ? {} : { type: targetType }),
      ...(targetId === undefined ? {} : { id: targetId }),
    };
  }
  return out;
}

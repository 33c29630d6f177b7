// What the full and the minimal record read the same way: the request's params and the secrets
// among them, the response status, the error message, and the marker for unreadable text.
import type { Request, Response } from "express";
import type { Config } from "../config/resolve.js";
import { MAX_HEADER_CHARS } from "./headers.js";
import { field } from "./read.js";
import type { RouteSeen } from "./route.js";
import { bounded, MARKER_PREFIX } from "./sanitize.js";

/** What a field that cannot be read as text is recorded as. */
export const UNKNOWN = `${MARKER_PREFIX}unknown]`;

/** Longest raw path kept in `request.path` and in a default `action`. */
export const MAX_PATH_CHARS = 1024;

export function errorMessage(err: unknown): string {
  try {
    if (err instanceof Error) return bounded(String(err.message), MAX_HEADER_CHARS);
    if (typeof err === "object" && err !== null && typeof (err as Error).message === "string") {
      return bounded((err as Error).message, MAX_HEADER_CHARS);
    }
    return bounded(String(err), MAX_HEADER_CHARS);
  } catch {
    // String() on an object whose toString throws: say so rather than fail the record.
    return `${MARKER_PREFIX}unreadable error]`;
  }
}

/**
 * The params the matched route saw (or Express's own at finish when none matched), after those
 * of the routers it was mounted through.
 */
export function paramsOf(seen: RouteSeen, req: Request): unknown {
  const own = seen.template !== null ? seen.params : field(req, "params");
  if (seen.mountParams === undefined) return own;
  if (typeof own !== "object" || own === null) return seen.mountParams;
  try {
    return { ...seen.mountParams, ...own };
  } catch {
    // Own params behind a Proxy that throws: the caller treats them as unreadable.
    return own;
  }
}

/**
 * Values of the params whose names the redaction rules censor; null when the params cannot be
 * listed (a Proxy that throws), so the caller cannot tell secrets in the path apart.
 */
export function secretValues(config: Config, params: unknown): string[] | null {
  const secrets: string[] = [];
  if (typeof params !== "object" || params === null) return secrets;
  let keys: string[];
  try {
    keys = Object.keys(params);
  } catch {
    return null;
  }
  for (const key of keys) {
    const value = field(params, key);
    if (typeof value === "string" && config.redactKeys?.test(key)) secrets.push(value);
  }
  return secrets;
}

/** The response status, or 0 when the app left something that is not one. */
export function statusOf(res: Response): number {
  const status = field(res, "statusCode");
  return typeof status === "number" && Number.isInteger(status) ? status : 0;
}

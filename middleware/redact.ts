// What auditq censors by default, and censoring by exact record path.
import { escapeKey } from "./sanitize.js";

/** Request headers censored by default (compared lowercase). */
export const DEFAULT_REDACT_HEADERS: readonly string[] = Object.freeze([
  "authorization",
  "cookie",
  "set-cookie",
  "x-api-key",
  "proxy-authorization",
]);

/** Keys in body, query, params and meta whose values are censored by default. */
export const DEFAULT_REDACT_KEYS =
  /passw(?:or)?d|secret|token|api[-_]?key|credit[-_ ]?card|card[-_ ]?number/i;

/** What censored values are replaced by. */
export const DEFAULT_CENSOR = "[REDACTED]";

/**
 * Replaces the value at each dot-separated record path (`request.body.card.number`,
 * `meta.*.ssn`; `*` matches any key or array index) with `censor`, where the path exists.
 * Path segments are the app's own key names; they are escaped here as the record's keys are.
 */
export function redactPaths(
  record: Record<string, unknown>,
  paths: readonly (readonly string[])[],
  censor: string,
): void {
  for (const path of paths) censorAt(record, path, 0, censor);
}

function censorAt(node: unknown, path: readonly string[], i: number, censor: string): void {
  if (typeof node !== "object" || node === null) return;
  const segment = path[i] as string;
  const last = i === path.length - 1;
  const container = node as Record<string, unknown>;
  const keys = segment === "*" ? Object.keys(container) : [escapeKey(segment)];
  for (const key of keys) {
    if (!Object.hasOwn(container, key)) continue;
    if (last) container[key] = censor;
    else censorAt(container[key], path, i + 1, censor);
  }
}

/**
 * Censors in the raw request path the values of route params that were redacted, so that
 * `/reset/:token` does not keep the token in `request.path`.
 */
export function censorPathValues(path: string, values: readonly string[], censor: string): string {
  let out = path;
  for (const value of values) {
    if (value === "") continue;
    out = out.split(value).join(censor);
    const encoded = encodeURIComponent(value);
    if (encoded !== value) out = out.split(encoded).join(censor);
  }
  return out;
}

// What auditq censors by default, and censoring by exact record path.

import { censorUrlCredentials, censorUserinfo } from "../../../shared/util/url-credentials.js";
import { escapeKey } from "../sanitize.js";
import type { KeyMatcher } from "./secret-keys.js";

/** Request headers censored by default (compared lowercase). */
export const DEFAULT_REDACT_HEADERS: readonly string[] = Object.freeze([
  "authorization",
  "cookie",
  "set-cookie",
  "x-api-key",
  "proxy-authorization",
]);

/** Request headers whose value is a URL: its query, fragment and user info are censored. */
export const URL_HEADERS: ReadonlySet<string> = new Set(["referer", "origin"]);

/** What censored values are replaced by. */
export const DEFAULT_CENSOR = "[REDACTED]";

/**
 * Replaces the value at each dot-separated record path (`request.body.customer.birthDate`,
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

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    // A malformed escape is not something Express decoded either; compare the text as sent.
    return text;
  }
}

/**
 * Censors in the raw request path the values of route params that were redacted, so that
 * `/reset/:token` does not keep the token in `request.path`. Segments are compared after
 * decoding, as Express decoded the params (`ab%2bcd`, `%50ATH`); a value still found in the
 * path after that (one spanning segments) censors the whole path.
 */
export function censorPathValues(path: string, values: readonly string[], censor: string): string {
  const secrets = values.filter((value) => value !== "");
  if (secrets.length === 0) return path;
  const hit = (text: string) => secrets.some((secret) => text.includes(secret));
  const out = path
    .split("/")
    .map((segment) => (segment !== "" && hit(decoded(segment)) ? censor : segment))
    .join("/");
  return hit(decoded(out)) || hit(out) ? censor : out;
}

/**
 * A URL header (`Referer`, `Origin`) without what may hold secrets: user info, query and
 * fragment become `censor` (`https://[REDACTED]@shop.example/reset?[REDACTED]`).
 */
export function censorUrl(value: string, censor: string): string {
  let out = value;
  const cut = out.search(/[?#]/);
  if (cut !== -1) out = `${out.slice(0, cut)}?${censor}`;
  return censorUserinfo(out, censor);
}

// `key=value`, `key: value`, `"key": "value"` in free text, where the key is one word. The value
// is matched separately, so that a value may itself hold a pair (`failed: password=…`).
// Keys in any script (look-alike letters, marks, invisible characters), for the key rule to judge.
const KEY_SEP =
  /(?<![\p{L}\p{N}\p{M}\p{Cf}_.[\]-])([\p{L}\p{N}\p{M}\p{Cf}_.[\]-]+)(["']?\s*[=:]\s*)/gu;
const VALUE = /"[^"]*"|'[^']*'|[^\s&,;"'}]+/y;
const BEARER = /\b(bearer|basic)(\s+)[\w~+/.=-]+/gi;

/**
 * Censors secrets in free text such as an error message: the value of every `key=value` or
 * `key: value` pair whose key `keys` matches (`password=hunter2`, `?access_token=…`,
 * `"apiKey":"…"`), up to a space, quote, `&`, `,`, `;` or `}`; `Bearer`/`Basic` credentials; and
 * the user info of URLs (`postgres://app:pw@db`).
 */
export function scrubText(text: string, keys: KeyMatcher | null, censor: string): string {
  const out = censorUrlCredentials(text, censor).replace(BEARER, `$1$2${censor}`);
  if (keys === null) return out;
  let result = "";
  let done = 0;
  KEY_SEP.lastIndex = 0;
  for (let m = KEY_SEP.exec(out); m !== null; m = KEY_SEP.exec(out)) {
    const valueOffset = m.index + m[0].length;
    if (!keys.test(m[1] as string)) continue;
    VALUE.lastIndex = valueOffset;
    const value = VALUE.exec(out)?.[0];
    if (value === undefined) continue;
    result += out.slice(done, valueOffset) + (value.startsWith('"') ? `"${censor}"` : censor);
    done = valueOffset + value.length;
    KEY_SEP.lastIndex = done;
  }
  return result + out.slice(done);
}

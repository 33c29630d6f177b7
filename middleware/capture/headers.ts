// The request headers a record keeps: the configured allow-list, censored and bounded.

import { censorUrlCredentials } from "../../shared/util/url-credentials.js";
import type { Config } from "../config/resolve.js";
import { headerText } from "./read.js";
import { censorUrl, URL_HEADERS } from "./redact/censor.js";
import { DEFAULT_REDACT_KEYS } from "./redact/secret-keys.js";
import { bounded, escapeKey } from "./sanitize.js";

/** Longest header value kept (also the bound of an error message). */
export const MAX_HEADER_CHARS = 1024;

/** What is decided per configured header once per config, not once per request. */
interface HeaderRule {
  name: string;
  /** The key in the record (escaped). */
  key: string;
  /** Whether its value carries a URL whose query and credentials are censored. */
  url: boolean;
  /** Censored whole; undefined: the app's own `redact.keys` function decides per request. */
  redacted: boolean | undefined;
}

const headerRulesByConfig = new WeakMap<Config, HeaderRule[]>();

function headerRulesOf(config: Config): HeaderRule[] {
  let rules = headerRulesByConfig.get(config);
  if (rules === undefined) {
    const keys = config.redactKeys;
    // A RegExp (what key lists compile to) and the default rule give the same answer every
    // time; a function the app passed is asked on each request, as before.
    const fixed = keys === null || keys instanceof RegExp || keys === DEFAULT_REDACT_KEYS;
    rules = config.headers.map((name) => ({
      name,
      key: escapeKey(name),
      url: URL_HEADERS.has(name),
      redacted: config.redactHeaders.has(name) || (fixed ? keys?.test(name) === true : undefined),
    }));
    headerRulesByConfig.set(config, rules);
  }
  return rules;
}

function keepHeader(value: string, rule: HeaderRule, censor: string): string {
  // Censored before bounding: a cut inside a URL's user info would keep its start.
  const text = censorUrlCredentials(value, censor);
  return bounded(rule.url ? censorUrl(text, censor) : text, MAX_HEADER_CHARS);
}

/** The allow-listed headers of a request, or undefined when it sent none of them. */
export function headersOf(config: Config, headers: unknown): Record<string, unknown> | undefined {
  const readable =
    (typeof headers === "object" || typeof headers === "function") && headers !== null
      ? (headers as Record<string, unknown>)
      : undefined;
  let out: Record<string, unknown> | undefined;
  for (const rule of headerRulesOf(config)) {
    // field() inlined: one guarded read per header at a site that only ever sees header
    // objects, instead of the megamorphic one shared by every read of the request.
    let raw: unknown;
    try {
      raw = readable?.[rule.name];
    } catch {
      // A getter or Proxy trap on the headers that throws: that header is left out.
      raw = undefined;
    }
    const value = headerText(raw);
    if (value === undefined) continue;
    out ??= {};
    const redacted = rule.redacted ?? config.redactKeys?.test(rule.name) === true;
    if (redacted) out[rule.key] = config.censor;
    else if (Array.isArray(value)) {
      const kept: string[] = [];
      for (const v of value) kept.push(keepHeader(v, rule, config.censor));
      out[rule.key] = kept;
    } else out[rule.key] = keepHeader(value, rule, config.censor);
  }
  return out;
}

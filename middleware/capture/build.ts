// Builds the full audit record of one request from what Express knows when the response ends.
import type { Request, Response } from "express";
import { censorUrlCredentials, censorUserinfo } from "../../shared/util/url-credentials.js";
import {
  type AuditActor,
  type AuditOutcome,
  type AuditRecord,
  type AuditRequest,
  RECORD_VERSION,
} from "../../shared/wire/record.js";
import type { ActorResult } from "../config/options.js";
import type { Config } from "../config/resolve.js";
import { diffChanges } from "./changes.js";
import { headersOf, MAX_HEADER_CHARS } from "./headers.js";
import { asText, field } from "./read.js";
import {
  errorMessage,
  MAX_PATH_CHARS,
  paramsOf,
  secretValues,
  statusOf,
  UNKNOWN,
} from "./record-fields.js";
import { censorPathValues, redactPaths, scrubText } from "./redact/censor.js";
import type { RequestEnd } from "./request-facts.js";
import {
  bounded,
  MARKER_PREFIX,
  newState,
  type SanitizeRules,
  type SanitizeState,
  sanitize,
} from "./sanitize.js";
import { trimToFit } from "./trim.js";

const MAX_SHORT_CHARS = 256;
const MAX_DEPTH = 32;
// Fields that are bounded whatever the request: ids, status, service, short strings.
const FIXED_BYTES = 1024;
// JSON escapes make a string at most 6 times its UTF-8 size (`\u0001`); below this share of
// maxRecordBytes, a record cannot be too large and is not measured exactly.
const ESCAPE_FACTOR = 6;

function isEmptyPlainObject(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  try {
    const proto = Object.getPrototypeOf(value);
    return (proto === Object.prototype || proto === null) && Object.keys(value).length === 0;
  } catch {
    // A Proxy whose traps throw is not empty: sanitize() records it as unreadable.
    return false;
  }
}

/** Reports a failure in app-supplied code (actor, skip) without losing the record. */
export type Report = (kind: "actor" | "tenant" | "skip", cause: unknown) => void;

/**
 * The `tenant` option's answer as stored text, or undefined (no option, no tenant, it threw).
 * The record and the request's scope (`audit.record()` in its work) read it alike.
 */
export function readTenant(
  tenantOf: Config["tenant"],
  req: Request,
  res: Response,
  report: Report,
): string | undefined {
  if (tenantOf === undefined) return undefined;
  let result: unknown;
  try {
    result = tenantOf(req, res);
  } catch (err) {
    report("tenant", err);
    return undefined;
  }
  if ((typeof result === "string" && result !== "") || typeof result === "number") {
    return bounded(String(result), MAX_SHORT_CHARS);
  }
  return undefined;
}

function resolveActor(end: RequestEnd, report: Report): AuditActor {
  const { config, req, res } = end;
  let result: ActorResult = null;
  try {
    result = config.actor(req, res);
  } catch (err) {
    report("actor", err);
  }
  let id: unknown = result;
  let type: unknown;
  if (typeof result === "object" && result !== null) {
    id = field(result, "id");
    type = field(result, "type");
  }
  const actor: AuditActor = {
    id:
      typeof id === "string" || typeof id === "number"
        ? bounded(String(id), MAX_SHORT_CHARS)
        : null,
  };
  if (typeof type === "string") actor.type = bounded(type, MAX_SHORT_CHARS);
  const ip = field(req, "ip");
  if (typeof ip === "string") actor.ip = bounded(ip, MAX_SHORT_CHARS);
  const ua = end.view.firstHeader("user-agent");
  if (ua !== undefined) actor.userAgent = bounded(ua, MAX_SHORT_CHARS * 2);
  return actor;
}

function mergeMeta(parts: object[]): Record<string, unknown> {
  // Null prototype: a `__proto__` key the app passes stays a key, and sets no prototype.
  const merged: Record<string, unknown> = Object.create(null);
  for (const part of parts) {
    let keys: string[];
    try {
      keys = Object.keys(part);
    } catch (err) {
      // A Proxy whose ownKeys trap throws: note it where the fields would have been.
      merged[`${MARKER_PREFIX}unreadable]`] = err instanceof Error ? err.name : typeof err;
      continue;
    }
    for (const key of keys) merged[key] = field(part, key);
  }
  return merged;
}

/** How a record came out of {@link buildRecord}. */
export interface Built {
  record: AuditRecord;
  /** Fields replaced to fit `maxRecordBytes`. */
  trimmed: string[];
}

/** The sanitize rules of a config, made once per config rather than once per record. */
const rulesByConfig = new WeakMap<Config, SanitizeRules>();

/** The sanitize rules of `config`: its redaction keys and censor, and the depth limit. */
export function rulesOf(config: Config): SanitizeRules {
  let rules = rulesByConfig.get(config);
  if (rules === undefined) {
    rules = { redactKeys: config.redactKeys, censor: config.censor, maxDepth: MAX_DEPTH };
    rulesByConfig.set(config, rules);
  }
  return rules;
}

/** `value` sanitized within `budget` bytes; its state joins `states` for the size estimate. */
export function cleaned(
  value: unknown,
  rules: SanitizeRules,
  budget: number,
  states: SanitizeState[],
): unknown {
  const state = newState(budget);
  states.push(state);
  return sanitize(value, rules, state);
}

export function buildRecord(end: RequestEnd, report: Report): Built {
  const { config, begin, ctx, seen, req, res, aborted, now, view } = end;
  const rules = rulesOf(config);
  const states: SanitizeState[] = [];

  const method = bounded(view.method ?? UNKNOWN, MAX_SHORT_CHARS);
  // Censored before it is bounded: a cut inside the user info would leave its start behind.
  let path = bounded(
    censorUrlCredentials(censorUserinfo(view.path, config.censor), config.censor),
    MAX_PATH_CHARS,
  );
  const route = seen.template ?? routeTemplate(req);
  const request: AuditRequest = { method, path, route, requestId: ctx.requestId };

  const rawParams = paramsOf(seen, req);
  if (typeof rawParams === "object" && rawParams !== null && !isEmptyPlainObject(rawParams)) {
    request.params = cleaned(rawParams, rules, config.maxRecordBytes, states) as Record<
      string,
      unknown
    >;
    const secrets = secretValues(config, rawParams);
    if (secrets === null || secrets.length > 0) {
      path = secrets === null ? UNKNOWN : censorPathValues(path, secrets, config.censor);
      request.path = path;
    }
  }
  if (view.hasQuery) {
    const query = field(req, "query");
    if (!isEmptyPlainObject(query) && query !== undefined) {
      request.query = cleaned(query, rules, config.maxRecordBytes, states) as Record<
        string,
        unknown
      >;
    }
  }
  const headers = headersOf(config, view.headers);
  if (headers !== undefined) request.headers = headers;
  if (config.captureBody) {
    const body = field(req, "body");
    if (body !== undefined && !isEmptyPlainObject(body)) {
      request.body = cleaned(body, rules, config.maxBodyBytes, states);
    }
  }

  const outcome: AuditOutcome = {
    status: aborted ? 499 : statusOf(res),
    durationMs: Math.round((now - begin.beganAt) * 1000) / 1000,
  };
  if (aborted) outcome.aborted = true;
  if (ctx.hasError) {
    outcome.error = scrubText(errorMessage(ctx.errorValue), config.redactKeys, config.censor);
    const stack = field(ctx.errorValue, "stack");
    if (config.captureErrorStack && typeof stack === "string") {
      const text = bounded(stack, MAX_HEADER_CHARS * 8);
      outcome.errorStack = scrubText(text, config.redactKeys, config.censor);
    }
  }

  const record: AuditRecord = {
    _id: begin.id,
    v: RECORD_VERSION,
    source: "http",
    ts: begin.ts,
    actor: resolveActor(end, report),
    action: bounded(ctx.actionName ?? `${method} ${route ?? path}`, MAX_PATH_CHARS + 64),
    request,
    outcome,
    service: config.service,
  };
  const tenant = readTenant(end.config.tenant, end.req, end.res, report);
  if (tenant !== undefined) record.tenant = tenant;
  if (ctx.targetValue !== undefined) {
    record.target = {
      type: bounded(ctx.targetValue.type, MAX_SHORT_CHARS),
      id: bounded(ctx.targetValue.id, MAX_SHORT_CHARS),
    };
  }
  if (ctx.metaParts !== undefined) {
    record.meta = cleaned(mergeMeta(ctx.metaParts), rules, config.maxRecordBytes, states) as Record<
      string,
      unknown
    >;
  }
  if (ctx.changePairs !== undefined) {
    const diff = diffChanges(ctx.changePairs, rules, config.maxRecordBytes);
    states.push(diff.state);
    record.changes = diff.changes;
  }

  return { record, trimmed: fitRecord(record, states, path.length * 2, config) };
}

/**
 * Redacts `config`'s record paths in `record`, then trims it to `maxRecordBytes` when the sizes
 * of its sanitized parts (`states`, plus `extraBytes` not in them) say it may not fit; returns
 * the fields trimmed.
 */
export function fitRecord(
  record: AuditRecord,
  states: readonly SanitizeState[],
  extraBytes: number,
  config: Config,
): string[] {
  if (config.redactPaths.length > 0) {
    redactPaths(record as unknown as Record<string, unknown>, config.redactPaths, config.censor);
  }
  let estimate = FIXED_BYTES + extraBytes;
  for (const state of states) estimate += state.used;
  return estimate * ESCAPE_FACTOR > config.maxRecordBytes
    ? trimToFit(record, config.maxRecordBytes)
    : [];
}

/** The matched route template, e.g. `/orders/:id` under a router mounted at `/orders`. */
function routeTemplate(req: Request): string | null {
  const path = field(field(req, "route"), "path");
  if (typeof path !== "string") return null;
  return `${asText(field(req, "baseUrl")) ?? ""}${path}`;
}

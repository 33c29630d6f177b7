// What `audit.record()` and `audit.as()` accept, checked like the options: a wrong type throws a
// ConfigError naming the field (`record.action`), never a silent drop.
import type { ObjectId } from "bson";
import { invalid } from "../../shared/util/validate.js";
import type { ActorResult } from "../config/options.js";

/** How an operation recorded with `audit.record()` ended; every field as `outcome` stores it. */
export interface RecordOutcome {
  /** A status in HTTP's sense (200 done, 4xx refused, 5xx failed), an integer from 0 to 999. */
  status: number;
  /** How long it took, in milliseconds (0 or more). */
  durationMs: number;
  /** An error, or its message: stored as `outcome.error`, its secrets censored. */
  error?: unknown;
}

/** The input of `audit.record()`. Only `action` is required. */
export interface RecordInput {
  /** Who did it. Default: the actor of the context (`audit.as()`, or the request), else `null`. */
  actor?: ActorResult;
  /** What was done: `"invoice.send"`. A non-empty string. */
  action: string;
  /** What it was about. */
  target?: { type: string; id: string | number } | undefined;
  /** How it ended; absent from the record when not given. */
  outcome?: RecordOutcome | undefined;
  /** Extra fields, sanitized and redacted like `req.audit.set()`. */
  meta?: Record<string, unknown> | undefined;
  /** The tenant. Default: the tenant of the context. */
  tenant?: string | undefined;
  /**
   * The request that caused this operation, stored as `causedBy.requestId`. Default: the
   * request (or `audit.as()`) the caller runs in.
   */
  requestId?: string | undefined;
}

/** The options of `audit.as(actor, options, fn)`. */
export interface AsOptions {
  /** The tenant the records made inside take. Default: the enclosing context's. */
  tenant?: string | undefined;
  /** The request that started this work, stored as `causedBy.requestId`. */
  requestId?: string | undefined;
}

/** Longest tenant, request id, action, target type and id kept (as the capture's short fields). */
export const MAX_ID_CHARS = 256;
const MAX_ACTION_CHARS = 1088;

const RECORD_KEYS = new Set([
  "actor",
  "action",
  "target",
  "outcome",
  "meta",
  "tenant",
  "requestId",
]);
const AS_KEYS = new Set(["tenant", "requestId"]);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isPlain(value: unknown): value is Record<string, unknown> {
  if (!isObject(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function shortText(name: string, value: unknown, max = MAX_ID_CHARS): string {
  if (typeof value === "string" && value !== "" && value.length <= max) return value;
  return invalid(name, `a non-empty string of at most ${max} characters`, value);
}

function idText(name: string, value: unknown): string {
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return shortText(name, value);
}

function onlyKeys(name: string, value: Record<string, unknown>, keys: ReadonlySet<string>): void {
  for (const key of Object.keys(value)) {
    if (!keys.has(key)) invalid(`${name}.${key}`, `one of ${[...keys].join(", ")}`, key);
  }
}

/** Checks an actor as `audit.record()` and `audit.as()` take it (the `actor` option's forms). */
export function checkActor(name: string, value: unknown): ActorResult {
  if (value === null || value === undefined) return value;
  if (typeof value === "string" || (typeof value === "number" && Number.isFinite(value))) {
    return value;
  }
  const expects = "a string, a number, null, or { id, type? }";
  if (!isPlain(value)) return invalid(name, expects, value);
  onlyKeys(name, value, new Set(["id", "type"]));
  const { id, type } = value;
  if (id !== null && id !== undefined) idText(`${name}.id`, id);
  if (type !== undefined) shortText(`${name}.type`, type);
  return value as ActorResult;
}

/** What `checkRecordInput` gives back: the input, checked; nothing copied yet. */
export interface CheckedInput {
  actor: ActorResult;
  hasActor: boolean;
  action: string;
  target: { type: string; id: string } | undefined;
  outcome: RecordOutcome | undefined;
  meta: Record<string, unknown> | undefined;
  tenant: string | undefined;
  requestId: string | undefined;
}

function checkOutcome(value: unknown): RecordOutcome | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) return invalid("record.outcome", "{ status, durationMs, error? }", value);
  onlyKeys("record.outcome", value, new Set(["status", "durationMs", "error"]));
  const { status, durationMs } = value;
  if (typeof status !== "number" || !Number.isInteger(status) || status < 0 || status > 999) {
    invalid("record.outcome.status", "an integer from 0 to 999", status);
  }
  if (typeof durationMs !== "number" || !Number.isFinite(durationMs) || durationMs < 0) {
    invalid("record.outcome.durationMs", "a number from 0 and up", durationMs);
  }
  return value as unknown as RecordOutcome;
}

/** Checks the input of `audit.record()`; throws a ConfigError naming the first wrong field. */
export function checkRecordInput(input: unknown): CheckedInput {
  if (!isObject(input)) return invalid("record", "an object with at least `action`", input);
  onlyKeys("record", input, RECORD_KEYS);
  let target: CheckedInput["target"];
  if (input.target !== undefined) {
    if (!isObject(input.target)) invalid("record.target", "{ type, id }", input.target);
    onlyKeys("record.target", input.target, new Set(["type", "id"]));
    target = {
      type: shortText("record.target.type", input.target.type),
      id: idText("record.target.id", input.target.id),
    };
  }
  if (input.meta !== undefined && !isObject(input.meta)) {
    invalid("record.meta", "an object", input.meta);
  }
  return {
    actor: checkActor("record.actor", input.actor),
    hasActor: input.actor !== undefined,
    action: shortText("record.action", input.action, MAX_ACTION_CHARS),
    target,
    outcome: checkOutcome(input.outcome),
    meta: input.meta as Record<string, unknown> | undefined,
    tenant: input.tenant === undefined ? undefined : shortText("record.tenant", input.tenant),
    requestId:
      input.requestId === undefined ? undefined : shortText("record.requestId", input.requestId),
  };
}

/** Checks the options of `audit.as()`. */
export function checkAsOptions(options: unknown): AsOptions {
  if (options === undefined) return {};
  if (!isObject(options)) return invalid("as.options", "{ tenant?, requestId? }", options);
  onlyKeys("as.options", options, AS_KEYS);
  const { tenant, requestId } = options;
  return {
    tenant: tenant === undefined ? undefined : shortText("as.options.tenant", tenant),
    requestId: requestId === undefined ? undefined : shortText("as.options.requestId", requestId),
  };
}

/** The `causedBy` of a record whose input names `requestId`, over the context's. */
export function causeOf(
  requestId: string | undefined,
  inScope: { requestId: string; id?: ObjectId } | undefined,
): { requestId: string; id?: ObjectId } | undefined {
  if (requestId === undefined || requestId === inScope?.requestId) return inScope;
  return { requestId };
}

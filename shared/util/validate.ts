// Validation rules for option values, shared by both sides: one message shape, and every
// ConfigError names its option as data (`err.option`), not only in its text.
import { Registry } from "prom-client";
import { ConfigError } from "./errors.js";
import type { Logger } from "./logger.js";

/** `` `"x"` (string) ``: a value as messages show it. */
function describeValue(value: unknown): string {
  let text: string;
  if (typeof value === "string") text = JSON.stringify(value);
  else if (typeof value === "object" && value !== null && !(value instanceof RegExp)) {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      // Circular or BigInt inside: the type is still worth saying.
      text = Object.prototype.toString.call(value);
    }
  } else text = String(value);
  return `\`${text}\` (${typeof value})`;
}

/** Throws the one message shape: "Expected `name` to be <expects>, got `value` (type)". */
export function invalid(
  name: string,
  expects: string,
  value: unknown,
  described = describeValue(value),
): never {
  throw new ConfigError(`Expected \`${name}\` to be ${expects}, got ${described}`, {
    option: name,
  });
}

/** How the CLI turns the text of an environment variable or flag into a value. */
export type TextKind = "string" | "int" | "number" | "bool" | "json" | "list";

/** What one option accepts: its type, range, and a check of a given value. */
export interface Rule<T> {
  /** The type as docs/options.md shows it (`integer`, `boolean`, `string[]`...). */
  readonly type: string;
  /** The allowed range as docs/options.md shows it (`1–100`), when there is one. */
  readonly range?: string | undefined;
  /** What a valid value is, for messages: "an integer from 1 to 100". */
  readonly expects: string;
  /** How the CLI reads it from text; undefined: it cannot come from text (a client, a function). */
  readonly text?: TextKind | undefined;
  /** Checks a given (not undefined) value and returns it as the Config holds it. */
  check(name: string, value: unknown): T;
}

function rule<T>(
  type: string,
  expects: string,
  ok: (value: unknown) => boolean,
  extra: {
    range?: string;
    text?: TextKind;
    convert?: (value: unknown) => T;
    /** How a bad value shows in the message, when not as itself (a secret). */
    describe?: (value: unknown) => string;
  } = {},
): Rule<T> {
  const convert = extra.convert ?? ((value: unknown) => value as T);
  const describe = extra.describe ?? describeValue;
  return Object.freeze({
    type,
    expects,
    range: extra.range,
    text: extra.text,
    check: (name: string, value: unknown): T =>
      ok(value) ? convert(value) : invalid(name, expects, value, describe(value)),
  });
}

/** An integer from `min` to `max` (`max` omitted: any safe integer from `min` up). */
export function integer(min: number, max?: number): Rule<number> {
  const top = max ?? Number.MAX_SAFE_INTEGER;
  return rule(
    "integer",
    max === undefined ? `an integer from ${min} and up` : `an integer from ${min} to ${max}`,
    (v) => typeof v === "number" && Number.isSafeInteger(v) && v >= min && v <= top,
    { range: max === undefined ? `≥ ${min}` : `${min}–${max}`, text: "int" },
  );
}

/** A finite number from `min` to `max` (`max` omitted: no upper bound). */
export function number(min: number, max?: number): Rule<number> {
  const expects = max === undefined ? `from ${min} and up` : `from ${min} to ${max}`;
  return rule(
    "number",
    `a number ${expects}`,
    (v) =>
      typeof v === "number" && Number.isFinite(v) && v >= min && (max === undefined || v <= max),
    { range: max === undefined ? `≥ ${min}` : `${min}–${max}`, text: "number" },
  );
}

export const boolean: Rule<boolean> = rule("boolean", "a boolean", (v) => typeof v === "boolean", {
  text: "bool",
});

/** One of the strings in `allowed`. */
export function oneOf<T extends string>(allowed: readonly T[]): Rule<T> {
  return rule(
    allowed.map((a) => `"${a}"`).join(" | "),
    `one of ${allowed.map((a) => `"${a}"`).join(", ")}`,
    (v) => typeof v === "string" && (allowed as readonly string[]).includes(v),
    { text: "string" },
  );
}

/** A function; `type` is its signature as docs/options.md shows it. */
export function fn<T>(type: string): Rule<T> {
  return rule(type, "a function", (v) => typeof v === "function");
}

/** An array of non-empty strings, copied and frozen. */
export const strings: Rule<readonly string[]> = rule(
  "string[]",
  "an array of non-empty strings",
  (v) => Array.isArray(v) && v.every((s) => typeof s === "string" && s !== ""),
  { text: "json", convert: (v) => Object.freeze([...(v as string[])]) },
);

/** A string of at most `maxChars` characters. */
export function text(maxChars: number): Rule<string> {
  return rule(
    "string",
    `a string of at most ${maxChars} characters`,
    (v) => typeof v === "string" && v.length <= maxChars,
    { text: "string" },
  );
}

/** A string matching `pattern`; `expects` says what that is ("a MongoDB database name"). */
export function matching(pattern: RegExp, expects: string, type = "string"): Rule<string> {
  return rule(type, expects, (v) => typeof v === "string" && pattern.test(v), { text: "string" });
}

/** An http(s) URL of an SQS queue. */
export const queueUrl: Rule<string> = matching(
  /^https?:\/\/\S+$/,
  "an SQS queue URL (https://...)",
);

/** A plain object (not an array); its own keys are not checked here. */
export function object<T>(type: string, expects: string, text?: TextKind): Rule<T> {
  return rule(
    type,
    expects,
    (v) => typeof v === "object" && v !== null && !Array.isArray(v),
    text === undefined ? {} : { text },
  );
}

/** Anything `accepts` says yes to; for injected clients and unions of forms. */
export function custom<T>(
  type: string,
  expects: string,
  accepts: (value: unknown) => boolean,
  text?: TextKind,
): Rule<T> {
  return rule(type, expects, accepts, text === undefined ? {} : { text });
}

/** The rule of a logger option: anything with pino's four methods. */
export const loggerRule = custom<Logger>(
  "Logger",
  "a logger with debug, info, warn and error methods",
  (v) =>
    typeof v === "object" &&
    v !== null &&
    ["debug", "info", "warn", "error"].every(
      (m) => typeof (v as Record<string, unknown>)[m] === "function",
    ),
);

/** The rule of a registry option. */
export const registryRule = custom<Registry>(
  "Registry",
  "a prom-client Registry",
  (v) => v instanceof Registry,
);

/** A secret's length or type, never its value: messages and logs must not carry it. */
function describeSecret(value: unknown): string {
  if (typeof value === "string") return `${value.length} characters`;
  if (Array.isArray(value)) return `${value.length} value(s)`;
  return typeof value;
}

/** A secret string of `minChars` characters or more. */
export function secret(minChars: number): Rule<string> {
  return rule(
    "string",
    `a string of ${minChars} characters or more`,
    (v) => typeof v === "string" && v.length >= minChars,
    { text: "string", describe: describeSecret },
  );
}

/**
 * One secret, or up to `maxCount` (the current one and those being retired), each of
 * `minChars` characters or more; held as a frozen list. From text: comma-separated.
 */
export function secrets(minChars: number, maxCount: number): Rule<readonly string[]> {
  const ok = (s: unknown) => typeof s === "string" && s.length >= minChars;
  return rule(
    "string | string[]",
    `one or ${maxCount === 2 ? "two" : `up to ${maxCount}`} strings of ${minChars} characters or more`,
    (v) => ok(v) || (Array.isArray(v) && v.length >= 1 && v.length <= maxCount && v.every(ok)),
    {
      text: "list",
      describe: describeSecret,
      convert: (v) => Object.freeze(typeof v === "string" ? [v] : [...(v as string[])]),
    },
  );
}

// Option tables: one row per option (rule, default, one-line doc) that drives validation, the
// defaults, the CLI's variables and flags, --help, and docs/options.md (scripts/docs.ts). Both sides use it.
import { ConfigError } from "./errors.js";
import { didYouMean, nearest } from "./nearest.js";
import { invalid, type Rule } from "./validate.js";

interface RowBase<T> {
  readonly rule: Rule<T>;
  /** One line: what the option does. docs/options.md shows it as the meaning. */
  readonly doc: string;
  /** The default as docs/options.md shows it (Markdown; --help drops the backticks). */
  readonly shown: string;
  /**
   * The name the CLI derives its variable and flag from, when not the option's own
   * (`mongo` is read from `AUDITQ_MONGODB_URI`).
   */
  readonly cliKey?: string | undefined;
  /**
   * Other tools' words for this option (`mongoUri`), in the option's own form: "did you mean"
   * suggests this option for them, as option, variable (`AUDITQ_MONGO_URI`) and flag.
   */
  readonly aliases?: readonly string[] | undefined;
}

/** An option that must be given. */
export interface RequiredRow<T> extends RowBase<T> {
  readonly kind: "required";
}

/** An option with a default value, used when it is not given (or given as `undefined`). */
export interface DefaultRow<T> extends RowBase<T> {
  readonly kind: "default";
  readonly default: T;
}

/** An option without a default value: not given, it stays undefined (the code says what then). */
export interface OptionalRow<T> extends RowBase<T> {
  readonly kind: "optional";
}

export type OptionRow<T> = RequiredRow<T> | DefaultRow<T> | OptionalRow<T>;

/** The values of a table's options, validated, defaults filled in. */
export type Resolved<Table> = {
  readonly [K in keyof Table]: Table[K] extends OptionalRow<infer T>
    ? T | undefined
    : Table[K] extends OptionRow<infer T>
      ? T
      : never;
};

interface RowExtras {
  readonly cliKey?: string;
  readonly aliases?: readonly string[];
  /** How docs/options.md and --help show the default, when the value itself does not say it well. */
  readonly shown?: string;
}

/** How a default value shows in docs/options.md and --help: `` `200` ``, `` `"br"` ``, `` `/x/i` ``. */
function showValue(value: unknown): string {
  return `\`${value instanceof RegExp ? String(value) : JSON.stringify(value)}\``;
}

/** Freezes `value` and everything in it, so that an exported default cannot be changed. */
function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !(value instanceof RegExp)) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

/** A row with a default value. */
export function withDefault<T>(
  rule: Rule<T>,
  value: T,
  doc: string,
  extras: RowExtras = {},
): DefaultRow<T> {
  return Object.freeze({
    kind: "default",
    rule,
    default: deepFreeze(value),
    doc,
    shown: showValue(value),
    ...extras,
  });
}

/** A required row. */
export function required<T>(rule: Rule<T>, doc: string, extras: RowExtras = {}): RequiredRow<T> {
  return Object.freeze({ kind: "required", rule, doc, shown: "required", ...extras });
}

/** A row without a default value; `shown` says in words what happens when it is not given. */
export function optional<T>(
  rule: Rule<T>,
  shown: string,
  doc: string,
  extras: RowExtras = {},
): OptionalRow<T> {
  return Object.freeze({ kind: "optional", rule, doc, shown, ...extras });
}

/**
 * Rejects keys of `given` that are not in `table`, as "Unknown option `prefix.key`", with the
 * nearest option by spelling or alias.
 */
function rejectUnknownKeys(
  table: Record<string, OptionRow<unknown>>,
  given: object,
  prefix = "",
  label = "option",
): void {
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(table, key)) {
      const candidates = Object.entries(table).map(([name, row]) => ({
        name: `\`${prefix}${name}\``,
        aliases: row.aliases?.map((alias) => `\`${prefix}${alias}\``),
      }));
      const near = nearest(`\`${prefix}${key}\``, candidates);
      throw new ConfigError(`Unknown ${label} \`${prefix}${key}\`${didYouMean(near)}`, {
        option: prefix + key,
      });
    }
  }
}

/**
 * Validates `given` against `table` and fills in defaults: unknown keys are refused, `undefined`
 * means "not set". Never mutates `given`. Throws ConfigError naming the option (`prefix` +
 * key, e.g. `spool.maxBytes`).
 */
export function resolveTable<Table extends Record<string, OptionRow<unknown>>>(
  table: Table,
  given: object,
  prefix = "",
  label = "option",
): Resolved<Table> {
  rejectUnknownKeys(table, given, prefix, label);
  const values = given as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, row] of Object.entries(table)) {
    const name = prefix + key;
    const value = values[key];
    if (value !== undefined) out[key] = row.rule.check(name, value);
    else if (row.kind === "default") out[key] = row.default;
    else if (row.kind === "required") invalid(name, row.rule.expects, value);
    else out[key] = undefined;
  }
  return out as Resolved<Table>;
}

/** The default values of a table's rows that have one, frozen. */
export function defaultsOf<Table extends Record<string, OptionRow<unknown>>>(
  table: Table,
): {
  readonly [K in keyof Table as Table[K] extends DefaultRow<unknown>
    ? K
    : never]: Table[K] extends DefaultRow<infer T> ? T : never;
} {
  const out: Record<string, unknown> = {};
  for (const [key, row] of Object.entries(table))
    if (row.kind === "default") out[key] = row.default;
  return Object.freeze(out) as never;
}

// The auditq-sidecar command's settings: env variables and flags, derived from the option table.
// Read once into createSidecar's options, with errors naming variable, flag and expectation.
import { type ParseArgsConfig, parseArgs } from "node:util";
import { ConfigError } from "../../shared/util/errors.js";
import { type Candidate, didYouMean, nearest } from "../../shared/util/nearest.js";
import type { OptionRow } from "../../shared/util/option-table.js";
import type { TextKind } from "../../shared/util/validate.js";
import { CLI_OPTIONS, SIDECAR_OPTIONS } from "../config/option-table.js";
import type { SidecarOptions } from "../config/options.js";
import { resolveOptions } from "../config/resolve.js";

/** One setting the command reads: an option of the table that has a text form. */
export interface Setting {
  /** Its key in the table (`mongo`, `metricsPort`). */
  readonly key: string;
  /** `AUDITQ_MAX_WRITE_RATE` */
  readonly env: string;
  /** `--max-write-rate` */
  readonly flag: string;
  readonly kind: TextKind;
  readonly row: OptionRow<unknown>;
}

/**
 * Time the CLI gives itself after `shutdownTimeoutMs` to close the ops server and exit. A
 * pod's terminationGracePeriodSeconds must exceed both (deploy/kubernetes, tested).
 */
export const EXIT_GRACE_MS = 2_000;

/** `maxWriteRate` → `AUDITQ_MAX_WRITE_RATE`. */
export function envName(key: string): string {
  return `AUDITQ_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/** `maxWriteRate` → `--max-write-rate`. */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** Every setting of the command, in table order: the library's options first, then its own. */
export const SETTINGS: readonly Setting[] = Object.freeze(
  Object.entries({ ...SIDECAR_OPTIONS, ...CLI_OPTIONS } as Record<string, OptionRow<unknown>>)
    .filter(([, row]) => row.rule.text !== undefined)
    .map(([key, row]) => {
      const cliKey = row.cliKey ?? key;
      return Object.freeze({
        key,
        env: envName(cliKey),
        flag: flagName(cliKey),
        kind: row.rule.text as TextKind,
        row,
      });
    }),
);

/** Flags of the command itself, not settings. */
const COMMAND_FLAGS = ["--help", "-h", "--version"];

export interface CliConfig {
  /** Options for `createSidecar`, without the injected clients. */
  options: SidecarOptions & { mongo: string };
  metricsPort: number;
  metricsHost: string;
  /**
   * Connections the ops server keeps at once; past it, a new one is closed at once. Default
   * `64` (`CLI_OPTIONS.metricsMaxConnections`).
   */
  metricsMaxConnections: number;
  logLevel: string;
  /** Misspelled `AUDITQ_*` variables let through by `allowUnknownEnv`, to log as warnings. */
  warnings: string[];
}

function label(s: Setting): string {
  return `${s.env} (${s.flag})`;
}

/** Flag values by setting key: booleans as `--x`/`--no-x` (or `--x=false`), the rest `--x v`. */
function parseFlags(argv: readonly string[], problems: string[]): Map<string, string> {
  const byName = new Map(SETTINGS.map((s) => [s.flag.slice(2), s]));
  const { tokens } = parseArgs({
    args: [...argv],
    options: Object.fromEntries([
      ...SETTINGS.map((s) => [s.flag.slice(2), { type: s.kind === "bool" ? "boolean" : "string" }]),
      ["help", { type: "boolean", short: "h" }],
      ["version", { type: "boolean" }],
    ]) as ParseArgsConfig["options"],
    strict: false,
    allowPositionals: true,
    allowNegative: true,
    tokens: true,
  });
  const values = new Map<string, string>();
  for (const token of tokens) {
    if (token.kind === "option-terminator") continue;
    if (token.kind === "positional") {
      problems.push(`unknown argument ${JSON.stringify(token.value)}`);
      continue;
    }
    if (COMMAND_FLAGS.includes(token.rawName)) continue;
    const setting = byName.get(token.name);
    const negated = token.rawName.startsWith("--no-");
    if (setting === undefined || (negated && setting.kind !== "bool")) {
      const arg = token.inlineValue ? `${token.rawName}=${token.value}` : token.rawName;
      const near = nearest(token.rawName, SETTINGS.map(asFlag), { prefix: "--" });
      problems.push(`unknown argument ${JSON.stringify(arg)}${didYouMean(near)}`);
      continue;
    }
    if (setting.kind === "bool")
      values.set(setting.key, negated ? "false" : (token.value ?? "true"));
    else if (token.value === undefined) problems.push(`${setting.flag} needs a value`);
    else values.set(setting.key, token.value);
  }
  return values;
}

/** The value of `raw` as text of `kind`; undefined when it is not that. */
function convert(kind: TextKind, raw: string): unknown {
  switch (kind) {
    case "string":
      return raw;
    case "int":
      return /^-?\d+$/.test(raw) ? Number(raw) : undefined;
    case "number": {
      const n = raw.trim() === "" ? Number.NaN : Number(raw);
      return Number.isNaN(n) ? undefined : n;
    }
    case "bool":
      return raw === "true" ? true : raw === "false" ? false : undefined;
    case "list":
      return raw.split(",").map((item) => item.trim());
    case "json":
      try {
        return JSON.parse(raw);
      } catch (err) {
        if (err instanceof SyntaxError) return undefined;
        throw err;
      }
  }
}

/** A setting as its variable, with its row's aliases as variables (`AUDITQ_MONGO_URI`). */
const asEnv = (s: Setting): Candidate => ({ name: s.env, aliases: s.row.aliases?.map(envName) });
/** A setting as its flag, with its row's aliases as flags (`--mongo-uri`). */
const asFlag = (s: Setting): Candidate => ({ name: s.flag, aliases: s.row.aliases?.map(flagName) });

/**
 * `AUDITQ_*` variables that are no setting but near one: a misspelling or an alias. Others
 * (`AUDITQ_TEST_SQS_ENDPOINT`, another tool's) are not auditq-sidecar's business.
 */
function misspelledVariables(env: NodeJS.ProcessEnv): string[] {
  const known = new Set(SETTINGS.map((s) => s.env));
  const found: string[] = [];
  for (const name of Object.keys(env)) {
    if (!name.startsWith("AUDITQ_") || known.has(name)) continue;
    const near = nearest(name, SETTINGS.map(asEnv), { prefix: "AUDITQ_", how: "strict" });
    if (near !== undefined) found.push(`${name} is not a setting${didYouMean(near)}`);
  }
  return found;
}

const ALLOW = SETTINGS.find((s) => s.key === "allowUnknownEnv") as Setting;

/** The problems to refuse for `misspelled` variables, each naming the opt-out. */
function unknownVariableProblems(misspelled: readonly string[]): string[] {
  return misspelled.map((m) => `${m} (or set ${label(ALLOW)}=true to start anyway)`);
}

/**
 * For the `auditq` command, which shares the sidecar's variables: a problem for each `AUDITQ_*`
 * variable near a setting, unless `AUDITQ_ALLOW_UNKNOWN_ENV=true`.
 */
export function unknownVariables(env: NodeJS.ProcessEnv): string[] {
  if (env[ALLOW.env]?.trim() === "true") return [];
  return unknownVariableProblems(misspelledVariables(env));
}

/**
 * Builds the CLI config from `env` and `argv` (flags win over env). Throws ConfigError naming
 * every malformed or missing setting by its env var and flag.
 */
export function readConfig(env: NodeJS.ProcessEnv, argv: readonly string[] = []): CliConfig {
  const problems: string[] = [];
  const flags = parseFlags(argv, problems);
  const values: Record<string, unknown> = {};
  for (const s of SETTINGS) {
    const raw = flags.get(s.key) ?? env[s.env]?.trim();
    if (raw === undefined || raw === "") {
      if (s.row.kind === "required") {
        problems.push(`${label(s)} is not set: expected ${s.row.rule.expects}`);
      }
      continue;
    }
    const value = convert(s.kind, raw);
    if (value === undefined) {
      problems.push(
        `${label(s)}=${JSON.stringify(raw)} is malformed: expected ${s.row.rule.expects}`,
      );
      continue;
    }
    try {
      values[s.key] = s.row.rule.check(s.key, value);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(`${label(s)}: ${err.message}`);
    }
  }
  const misspelled = misspelledVariables(env);
  if (values.allowUnknownEnv !== true) problems.push(...unknownVariableProblems(misspelled));
  if (problems.length > 0) {
    throw new ConfigError(`invalid configuration:\n  ${problems.join("\n  ")}`);
  }
  const { metricsPort, metricsHost, metricsMaxConnections, logLevel, allowUnknownEnv, ...options } =
    values;
  try {
    resolveOptions(options as unknown as SidecarOptions);
  } catch (err) {
    // What only the options together can say; err.option names the option, say which variable.
    if (!(err instanceof ConfigError)) throw err;
    const setting = SETTINGS.find((s) => s.key === err.option);
    throw new ConfigError(
      `invalid configuration:\n  ${setting ? `${label(setting)}: ` : ""}${err.message}`,
      { cause: err, ...(err.option === undefined ? {} : { option: err.option }) },
    );
  }
  return {
    options: options as unknown as CliConfig["options"],
    metricsPort: (metricsPort as number | undefined) ?? CLI_OPTIONS.metricsPort.default,
    metricsHost: (metricsHost as string | undefined) ?? CLI_OPTIONS.metricsHost.default,
    metricsMaxConnections:
      (metricsMaxConnections as number | undefined) ?? CLI_OPTIONS.metricsMaxConnections.default,
    logLevel: (logLevel as string | undefined) ?? CLI_OPTIONS.logLevel.default,
    // Only when allowUnknownEnv let them through.
    warnings: misspelled.map((m) => `${m}; ignored (${ALLOW.env}=true)`),
  };
}

const plain = (markdown: string) => markdown.replaceAll("`", "");

export function helpText(): string {
  const lines = SETTINGS.map((s) => {
    const flag = s.kind === "bool" ? `${s.flag}, --no-${s.flag.slice(2)}` : `${s.flag} <value>`;
    const shown = s.row.kind === "required" ? "(required)" : `(default ${plain(s.row.shown)})`;
    return `  ${flag.padEnd(46)} ${s.env}\n      ${plain(s.row.doc)}\n      ${s.row.rule.expects}; ${shown}`;
  });
  return [
    "Usage: auditq-sidecar [--flag value ...]",
    "",
    "Consumes auditq records from SQS and writes them into MongoDB at a rate it can take.",
    "Every setting is a flag or an environment variable; a flag wins over the variable.",
    "",
    ...lines,
    "",
    `  ${"-h, --help".padEnd(46)} this text`,
    `  ${"--version".padEnd(46)} the version of auditq`,
    "",
    "AWS credentials and region come from the AWS SDK's usual chain (AWS_REGION, AWS_PROFILE,",
    "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, instance or task roles; AWS_ENDPOINT_URL_SQS).",
  ].join("\n");
}

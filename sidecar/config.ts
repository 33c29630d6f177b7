// Reads the CLI's settings from environment variables and flags, once, with errors naming each.
import { ConfigError } from "../shared/errors.js";
import { DEFAULT_METRICS_HOST } from "./http.js";
import { DEFAULTS, resolveOptions, type SidecarOptions } from "./options.js";

type Kind = "string" | "int" | "number" | "bool" | "json" | "list";

interface Setting {
  /** Option name; env and flag are derived from it by one rule. */
  key: string;
  kind: Kind;
  /** The default as shown by --help; undefined = required. */
  shown?: string;
  expects: string;
}

/** `maxWriteRate` → `AUDITQ_MAX_WRITE_RATE`. */
export function envName(key: string): string {
  return `AUDITQ_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/** `maxWriteRate` → `--max-write-rate`. */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** Every setting of the CLI. `mongodbUri` is the string form of the library's `mongo` option. */
export const SETTINGS: readonly Setting[] = [
  { key: "queueUrl", kind: "string", expects: "an SQS queue URL (https://...)" },
  { key: "mongodbUri", kind: "string", expects: "a MongoDB connection string (mongodb://...)" },
  { key: "database", kind: "string", shown: DEFAULTS.database, expects: "a database name" },
  { key: "collection", kind: "string", shown: DEFAULTS.collection, expects: "a collection name" },
  {
    key: "quarantineCollection",
    kind: "string",
    shown: DEFAULTS.quarantineCollection,
    expects: "a collection name for what cannot be stored",
  },
  {
    key: "pollers",
    kind: "int",
    shown: String(DEFAULTS.pollers),
    expects: "concurrent long polls",
  },
  {
    key: "waitTimeSeconds",
    kind: "int",
    shown: String(DEFAULTS.waitTimeSeconds),
    expects: "long-poll wait, 0 to 20",
  },
  {
    key: "visibilityTimeoutSeconds",
    kind: "int",
    shown: String(DEFAULTS.visibilityTimeoutSeconds),
    expects: "visibility timeout asked for at receive (heartbeats extend it)",
  },
  {
    key: "bulkSize",
    kind: "int",
    shown: String(DEFAULTS.bulkSize),
    expects: "most records per insertMany",
  },
  {
    key: "bulkWaitMs",
    kind: "int",
    shown: String(DEFAULTS.bulkWaitMs),
    expects: "longest wait for a bulk to fill",
  },
  {
    key: "writeConcern",
    kind: "json",
    shown: JSON.stringify(DEFAULTS.writeConcern),
    expects: "a JSON write concern",
  },
  {
    key: "maxWriteRate",
    kind: "number",
    shown: String(DEFAULTS.maxWriteRate),
    expects: "records per second at most for all sidecars on this collection, 0 = no limit",
  },
  {
    key: "leaseCollection",
    kind: "string",
    shown: DEFAULTS.leaseCollection,
    expects: "a collection name for the fleet's leases",
  },
  {
    key: "leaseLifetimeMs",
    kind: "int",
    shown: String(DEFAULTS.leaseLifetimeMs),
    expects: "how long a lease counts without renewal (1000 to 600000)",
  },
  {
    key: "mongoTimeoutMs",
    kind: "int",
    shown: String(DEFAULTS.mongoTimeoutMs),
    expects: "deadline of each MongoDB operation (100 to 600000)",
  },
  {
    key: "maxInflightWrites",
    kind: "int",
    shown: String(DEFAULTS.maxInflightWrites),
    expects: "insertMany calls in flight at most",
  },
  {
    key: "adaptiveConcurrency",
    kind: "bool",
    shown: String(DEFAULTS.adaptiveConcurrency),
    expects: "lower write concurrency when MongoDB slows down (true/false)",
  },
  {
    key: "maxBufferedRecords",
    kind: "int",
    shown: String(DEFAULTS.maxBufferedRecords),
    expects: "records received but not yet written, at most",
  },
  {
    key: "maxRecordsPerMessage",
    kind: "int",
    shown: String(DEFAULTS.maxRecordsPerMessage),
    expects: "records one message may hold; more is quarantined unparsed",
  },
  {
    key: "signingSecret",
    kind: "list",
    shown: "none",
    expects: "message signing secret; two, comma-separated, during a key rotation",
  },
  {
    key: "indexes",
    kind: "json",
    shown: JSON.stringify(DEFAULTS.indexes),
    expects: "a JSON array of index keys",
  },
  {
    key: "retentionDays",
    kind: "number",
    shown: String(DEFAULTS.retentionDays),
    expects: "TTL on ts in days, 0 = keep forever",
  },
  {
    key: "shutdownTimeoutMs",
    kind: "int",
    shown: String(DEFAULTS.shutdownTimeoutMs),
    expects: "deadline of a graceful stop",
  },
  {
    key: "metricsPort",
    kind: "int",
    shown: "9464",
    expects: "port of /metrics, /healthz, /readyz (0 to 65535)",
  },
  {
    key: "metricsHost",
    kind: "string",
    shown: DEFAULT_METRICS_HOST,
    expects:
      "address the ops server binds (0.0.0.0: all interfaces, as probes need in a container)",
  },
  {
    key: "logLevel",
    kind: "string",
    shown: "info",
    expects: "trace, debug, info, warn, error, fatal or silent",
  },
];

const LOG_LEVELS = new Set(["trace", "debug", "info", "warn", "error", "fatal", "silent"]);

export interface CliConfig {
  /** Options for `createSidecar`, without the injected clients. */
  options: SidecarOptions & { mongo: string };
  metricsPort: number;
  metricsHost: string;
  logLevel: string;
}

function label(s: Setting): string {
  return `${envName(s.key)} (${flagName(s.key)})`;
}

/** Flags as `--name value` or `--name=value`; unknown flags are errors. */
function parseFlags(argv: readonly string[], problems: string[]): Map<string, string> {
  const byFlag = new Map(SETTINGS.map((s) => [flagName(s.key), s.key]));
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.indexOf("=");
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const key = byFlag.get(flag);
    if (key === undefined) {
      problems.push(`unknown argument ${JSON.stringify(arg)}`);
      continue;
    }
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) problems.push(`${flag} needs a value`);
    else values.set(key, value);
  }
  return values;
}

function convert(s: Setting, raw: string): unknown {
  switch (s.kind) {
    case "string":
      return raw;
    case "int":
      return /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN;
    case "number":
      return raw.trim() === "" ? Number.NaN : Number(raw);
    case "bool":
      return raw === "true" ? true : raw === "false" ? false : undefined;
    case "json":
      return JSON.parse(raw);
    case "list":
      return raw.split(",").map((item) => item.trim());
  }
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
    const raw = flags.get(s.key) ?? env[envName(s.key)]?.trim();
    if (raw === undefined || raw === "") {
      if (s.shown === undefined) problems.push(`${label(s)} is not set: expected ${s.expects}`);
      continue;
    }
    let value: unknown;
    try {
      value = convert(s, raw);
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
      value = Number.NaN;
    }
    if (value === undefined || Number.isNaN(value)) {
      problems.push(`${label(s)}=${JSON.stringify(raw)} is malformed: expected ${s.expects}`);
      continue;
    }
    values[s.key] = value;
  }
  const uri = values.mongodbUri;
  if (typeof uri === "string" && !/^mongodb(\+srv)?:\/\/\S+$/.test(uri)) {
    problems.push(
      `${envName("mongodbUri")} (--mongodb-uri) is malformed: expected a mongodb:// URI`,
    );
  }
  const port = values.metricsPort ?? 9464;
  if (typeof port !== "number" || port < 0 || port > 65535) {
    problems.push(`${envName("metricsPort")} (--metrics-port) is malformed: expected 0 to 65535`);
  }
  const logLevel = values.logLevel ?? "info";
  if (typeof logLevel !== "string" || !LOG_LEVELS.has(logLevel)) {
    problems.push(
      `${envName("logLevel")} (--log-level) is malformed: expected one of ${[...LOG_LEVELS].join(", ")}`,
    );
  }
  if (problems.length > 0) {
    throw new ConfigError(`invalid configuration:\n  ${problems.join("\n  ")}`);
  }
  const { mongodbUri, metricsPort: _port, metricsHost: _host, logLevel: _level, ...rest } = values;
  const options = { ...rest, mongo: mongodbUri as string } as SidecarOptions & { mongo: string };
  try {
    resolveOptions(options);
  } catch (err) {
    // resolveOptions names the option (`maxWriteRate`); say which variable and flag set it.
    if (!(err instanceof ConfigError)) throw err;
    const key = /`(\w+)`/.exec(err.message)?.[1];
    const setting = SETTINGS.find((s) => s.key === key);
    throw new ConfigError(
      `invalid configuration:\n  ${setting ? `${label(setting)}: ` : ""}${err.message}`,
      { cause: err },
    );
  }
  return {
    options,
    metricsPort: port as number,
    metricsHost: (values.metricsHost as string | undefined) ?? DEFAULT_METRICS_HOST,
    logLevel: logLevel as string,
  };
}

export function helpText(): string {
  const lines = SETTINGS.map(
    (s) =>
      `  ${flagName(s.key).padEnd(30)} ${envName(s.key).padEnd(36)} ${s.expects}\n${" ".repeat(
        33,
      )}${s.shown === undefined ? "(required)" : `(default ${s.shown})`}`,
  );
  return [
    "Usage: auditq-sidecar [--flag value ...]",
    "",
    "Consumes auditq records from SQS and writes them into MongoDB at a rate it can take.",
    "Every setting is a flag or an environment variable; a flag wins over the variable.",
    "",
    ...lines,
    "",
    "AWS credentials and region come from the AWS SDK's usual chain (AWS_REGION, AWS_PROFILE,",
    "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, instance or task roles; AWS_ENDPOINT_URL_SQS).",
  ].join("\n");
}

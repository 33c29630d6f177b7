// Reads the sidecar CLI's settings from environment variables, once, with precise errors.
import { ConfigError } from "../shared/errors.js";

export interface CliConfig {
  queueUrl: string;
  mongodbUri: string;
  database: string;
  collection: string;
  metricsPort: number;
  logLevel: string;
}

/** Each setting: its env var, default (undefined = required) and what it expects. */
export const SETTINGS = [
  { env: "AUDITQ_QUEUE_URL", key: "queueUrl", expects: "an SQS queue URL (https://...)" },
  {
    env: "AUDITQ_MONGODB_URI",
    key: "mongodbUri",
    expects: "a MongoDB connection string (mongodb://... or mongodb+srv://...)",
  },
  { env: "AUDITQ_DATABASE", key: "database", default: "auditq", expects: "a database name" },
  { env: "AUDITQ_COLLECTION", key: "collection", default: "records", expects: "a collection name" },
  {
    env: "AUDITQ_METRICS_PORT",
    key: "metricsPort",
    default: "9464",
    expects: "a TCP port from 0 to 65535",
  },
  {
    env: "AUDITQ_LOG_LEVEL",
    key: "logLevel",
    default: "info",
    expects: "one of trace, debug, info, warn, error, fatal, silent",
  },
] as const;

const LOG_LEVELS = new Set(["trace", "debug", "info", "warn", "error", "fatal", "silent"]);

/** Parses `env` into a CliConfig; throws ConfigError naming every bad variable at once. */
export function readConfig(env: NodeJS.ProcessEnv): CliConfig {
  const problems: string[] = [];
  const raw: Record<string, string> = {};
  for (const setting of SETTINGS) {
    const value = env[setting.env]?.trim();
    if (value === undefined || value === "") {
      if ("default" in setting) raw[setting.key] = setting.default;
      else problems.push(`${setting.env} is not set: expected ${setting.expects}`);
      continue;
    }
    raw[setting.key] = value;
  }
  const check = (key: string, ok: (v: string) => boolean) => {
    const value = raw[key];
    const setting = SETTINGS.find((s) => s.key === key);
    if (value !== undefined && setting && !ok(value)) {
      problems.push(
        `${setting.env}=${JSON.stringify(value)} is malformed: expected ${setting.expects}`,
      );
    }
  };
  check("queueUrl", (v) => /^https?:\/\/\S+$/.test(v));
  check("mongodbUri", (v) => /^mongodb(\+srv)?:\/\/\S+$/.test(v));
  check("database", (v) => /^[^/\\. "$*<>:|?]{1,63}$/.test(v));
  check("collection", (v) => /^[^$\0]{1,120}$/.test(v) && !v.startsWith("system."));
  check("metricsPort", (v) => /^\d{1,5}$/.test(v) && Number(v) <= 65535);
  check("logLevel", (v) => LOG_LEVELS.has(v));
  if (problems.length > 0) {
    throw new ConfigError(`invalid configuration:\n  ${problems.join("\n  ")}`);
  }
  return {
    queueUrl: raw.queueUrl as string,
    mongodbUri: raw.mongodbUri as string,
    database: raw.database as string,
    collection: raw.collection as string,
    metricsPort: Number(raw.metricsPort),
    logLevel: raw.logLevel as string,
  };
}

export function helpText(): string {
  const lines = SETTINGS.map(
    (s) =>
      `  ${s.env.padEnd(22)} ${s.expects}${"default" in s ? ` (default ${s.default})` : " (required)"}`,
  );
  return [
    "Usage: auditq-sidecar",
    "",
    "Consumes auditq records from SQS and writes them into MongoDB.",
    "",
    "Environment variables:",
    ...lines,
    "",
    "AWS credentials and region come from the AWS SDK's usual chain (AWS_REGION, AWS_PROFILE,",
    "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, instance or task roles; AWS_ENDPOINT_URL_SQS).",
  ].join("\n");
}

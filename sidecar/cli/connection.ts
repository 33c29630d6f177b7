// The connection settings of the `auditq` command's subcommands: the sidecar's own rows for
// `mongodbUri`, `database` and `collection`, read from the same variables and flags
// (AUDITQ_MONGODB_URI / --mongodb-uri, ...), so one environment serves both commands.
import { ConfigError } from "../../shared/util/errors.js";
import { SIDECAR_OPTIONS } from "../config/option-table.js";
import { SETTINGS, type Setting, unknownVariables } from "./args.js";

/** Where the audit trail is. */
export interface Connection {
  mongodbUri: string;
  database: string;
  collection: string;
}

const KEYS = ["mongo", "database", "collection"] as const;

/** The three settings, as the sidecar's table defines them. */
export const CONNECTION_SETTINGS: readonly Setting[] = KEYS.map((key) => {
  const setting = SETTINGS.find((s) => s.key === key);
  if (!setting) throw new Error(`the sidecar's option table has no ${key}`);
  return setting;
});

/** `parseArgs` options for the connection flags (`--mongodb-uri` ...), to merge into a subcommand's. */
export const CONNECTION_FLAGS = Object.fromEntries(
  CONNECTION_SETTINGS.map((s) => [s.flag.slice(2), { type: "string" as const }]),
);

/**
 * The connection from parsed flags (by flag name without `--`) and `env`; flags win. Throws
 * ConfigError naming the variable and flag of a missing or malformed setting, and an `AUDITQ_*`
 * variable near a setting (as auditq-sidecar does).
 */
export function readConnection(
  env: NodeJS.ProcessEnv,
  flags: Readonly<Record<string, unknown>>,
): Connection {
  const problems: string[] = unknownVariables(env);
  const values: Record<string, string> = {};
  for (const s of CONNECTION_SETTINGS) {
    const flag = flags[s.flag.slice(2)];
    const raw = typeof flag === "string" ? flag : env[s.env]?.trim();
    const label = `${s.env} (${s.flag})`;
    if (raw === undefined || raw === "") {
      if (s.row.kind === "required")
        problems.push(`${label} is not set: expected ${s.row.rule.expects}`);
      continue;
    }
    try {
      values[s.key] = String(s.row.rule.check(s.key, raw));
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(`${label}: ${err.message}`);
    }
  }
  if (problems.length > 0)
    throw new ConfigError(`invalid configuration:\n  ${problems.join("\n  ")}`);
  return {
    mongodbUri: values.mongo as string,
    database: values.database ?? SIDECAR_OPTIONS.database.default,
    collection: values.collection ?? SIDECAR_OPTIONS.collection.default,
  };
}

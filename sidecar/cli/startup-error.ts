// What a user can get wrong that only shows when the commands start: a connection string the
// MongoDB driver refuses, a port or address the ops server cannot bind. Each becomes one line
// that names the setting and the fix (exit 2), instead of a stack trace. By name and code, so
// that this module loads without mongodb installed.
import { ConfigError } from "../../shared/util/errors.js";
import { redactCredentials } from "../../shared/util/url-credentials.js";
import { SETTINGS } from "./args.js";

/** `AUDITQ_X (--x)` for the setting `key`, as --help shows it. */
function setting(key: string): string {
  const s = SETTINGS.find((candidate) => candidate.key === key);
  if (!s) throw new Error(`no setting ${key} in the option tables`);
  return `${s.env} (${s.flag})`;
}

/** Where the ops server was told to listen, to name in its errors. */
export interface Bind {
  readonly host: string;
  readonly port: number;
}

/**
 * `err` as the ConfigError a user can act on, or undefined when it is not one of theirs (a bug,
 * or a service to retry). The MongoDB driver parses the connection string when its client is
 * built: `MongoParseError` (an unknown option such as `replicaSett`, a malformed value) and
 * `MongoInvalidArgumentError`/`MongoAPIError` from the constructor are the string's fault.
 */
export function startupConfigError(err: unknown, bind?: Bind): ConfigError | undefined {
  if (!(err instanceof Error)) return undefined;
  if (["MongoParseError", "MongoInvalidArgumentError", "MongoAPIError"].includes(err.name)) {
    return new ConfigError(
      `${setting("mongo")}: the MongoDB driver refuses the connection string: ${redactCredentials(err.message)}. ` +
        "Fix the option (https://www.mongodb.com/docs/manual/reference/connection-string-options/)",
      { cause: err, option: "mongo" },
    );
  }
  const code = (err as NodeJS.ErrnoException).code;
  const syscall = (err as NodeJS.ErrnoException).syscall;
  if (bind && syscall === "listen") {
    const where = `${bind.host}:${bind.port}`;
    if (code === "EADDRINUSE")
      return new ConfigError(
        `${setting("metricsPort")}: ${where} is already in use by another process; choose a free port, or stop that process`,
        { cause: err, option: "metricsPort" },
      );
    if (code === "EACCES")
      return new ConfigError(
        `${setting("metricsPort")}: not allowed to listen on ${where} (ports below 1024 need privileges); choose a port from 1024 up`,
        { cause: err, option: "metricsPort" },
      );
    if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND" || code === "EAI_AGAIN")
      return new ConfigError(
        `${setting("metricsHost")}: ${JSON.stringify(bind.host)} is no address of this machine (${code}); use 0.0.0.0, 127.0.0.1 or one of its addresses`,
        { cause: err, option: "metricsHost" },
      );
  }
  return undefined;
}

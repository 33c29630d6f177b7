// The middleware's public Options, their defaults in one place, and validation into a Config.
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SQSClient, type SQSClientConfig } from "@aws-sdk/client-sqs";
import type { Request, Response } from "express";
import { Registry } from "prom-client";
import type { BackoffPolicy } from "../shared/backoff.js";
import { type AuditqError, ConfigError } from "../shared/errors.js";
import { consoleLogger, type Logger } from "../shared/logger.js";
import { SQS_LEGACY_MAX_MESSAGE_BYTES, SQS_MAX_MESSAGE_BYTES } from "../shared/sqs-limits.js";

/** Options of `auditq(options)`. Every option but `queueUrl` is optional. */
export interface Options {
  /** URL of the SQS queue records go to. Required. */
  queueUrl: string;
  /**
   * An `SQSClient` to use, or the config to build one. Default: `new SQSClient({})`, which
   * follows the AWS SDK's own chain (credentials, `AWS_REGION`, `AWS_ENDPOINT_URL_SQS`).
   */
  sqs?: SQSClient | SQSClientConfig | undefined;
  /** Who did it: returns the actor's id. Default: `req.user?.id`. Called once, at finish. */
  actor?: ((req: Request, res: Response) => string | number | null | undefined) | undefined;
  /** Longest a record waits in memory for more to fill a batch. Default 200. */
  lingerMs?: number | undefined;
  /**
   * The queue's `MaximumMessageSize`. Default 262144 (256 KiB, what every queue accepts);
   * 1048576 for queues raised to 1 MiB.
   */
  maxMessageBytes?: number | undefined;
  /** Memory for records not yet sent; beyond it records are dropped and counted. Default 16 MiB. */
  maxBufferBytes?: number | undefined;
  /** SendMessageBatch calls in flight at once. Default 4. */
  maxInflight?: number | undefined;
  /** How long `close()` waits for the buffer to drain. Default 10000. */
  closeTimeoutMs?: number | undefined;
  /**
   * How message bodies are compressed when that makes them smaller: `"br"` (brotli quality 5,
   * the default), `"gzip"`, or `"none"`. Compressed bodies are base64 text.
   */
  compression?: "br" | "gzip" | "none" | undefined;
  /**
   * The on-disk spool that keeps records through an SQS outage, a full buffer, a crash and a
   * restart. On by default, in `<os.tmpdir()>/auditq-spool/<first 16 hex of sha256(queueUrl)>`,
   * which survives a `kill -9` or restart on the same host but not a new container: put
   * `spool.dir` on a persistent volume for that. Processes sharing a directory each take a
   * `slot-N` subdirectory of it. `false`: no spool (records beyond `maxBufferBytes`, and what is
   * in memory when the process dies, are lost).
   */
  spool?: SpoolOptions | false | undefined;
  /** prom-client registry for the metrics. Default: a private registry, `audit.registry`. */
  registry?: Registry | undefined;
  /** A pino-compatible logger. Default: warnings and errors to the console. */
  logger?: Logger | undefined;
  /** Called with every error inside auditq (never thrown into the app). */
  onError?: ((err: AuditqError) => void) | undefined;
}

/** The `spool` option. */
export interface SpoolOptions {
  /**
   * Base directory of the spool; created if missing. Each process takes the first free
   * `slot-N` subdirectory (N = 0..63) and adopts the segments of slots whose process is gone.
   * Required in this form.
   */
  dir: string;
  /** Disk the spool may take; beyond it records are dropped and counted. Default 1 GiB. */
  maxBytes?: number | undefined;
  /** SQS failing this long sends new messages to disk instead of retrying in memory. Default 5000. */
  afterMs?: number | undefined;
}

/** Options with every default filled in. */
export interface Config {
  readonly queueUrl: string;
  readonly sqs: SQSClient;
  readonly actor: (req: Request, res: Response) => string | number | null | undefined;
  readonly lingerMs: number;
  readonly maxMessageBytes: number;
  readonly maxBufferBytes: number;
  readonly maxInflight: number;
  readonly closeTimeoutMs: number;
  readonly compression: "br" | "gzip" | "none";
  readonly spool:
    | {
        readonly dir: string;
        readonly maxBytes: number;
        readonly afterMs: number;
        /** `dir` is the default one: if unusable, a warning and memory-only. */
        readonly defaultDir: boolean;
      }
    | undefined;
  readonly retry: BackoffPolicy;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly onError: (err: AuditqError) => void;
}

const DEFAULTS = {
  lingerMs: 200,
  maxMessageBytes: SQS_LEGACY_MAX_MESSAGE_BYTES,
  maxBufferBytes: 16 * 1024 * 1024,
  maxInflight: 4,
  closeTimeoutMs: 10_000,
  compression: "br",
  spoolMaxBytes: 1024 * 1024 * 1024,
  spoolAfterMs: 5000,
  retry: { baseMs: 100, maxMs: 20_000 },
} as const;

const KNOWN_KEYS = new Set<string>([
  "queueUrl",
  "sqs",
  "actor",
  "lingerMs",
  "maxMessageBytes",
  "maxBufferBytes",
  "maxInflight",
  "closeTimeoutMs",
  "compression",
  "spool",
  "registry",
  "logger",
  "onError",
]);

function describe(value: unknown): string {
  return `\`${typeof value === "string" ? JSON.stringify(value) : String(value)}\` (${typeof value})`;
}

function integer(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(
      `Expected \`${name}\` to be an integer from ${min} to ${max}, got ${describe(value)}`,
    );
  }
  return value;
}

function oneOf<T extends string>(
  name: string,
  value: unknown,
  fallback: T,
  allowed: readonly T[],
): T {
  if (value === undefined) return fallback;
  if (typeof value !== "string" || !allowed.includes(value as T)) {
    throw new ConfigError(
      `Expected \`${name}\` to be one of ${allowed.map((a) => `"${a}"`).join(", ")}, got ${describe(value)}`,
    );
  }
  return value as T;
}

function fn<T>(name: string, value: unknown, fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== "function") {
    throw new ConfigError(`Expected \`${name}\` to be a function, got ${describe(value)}`);
  }
  return value as T;
}

/** The default spool directory of a queue: per user's tmpdir, per queue. */
export function defaultSpoolDir(queueUrl: string): string {
  const hash = createHash("sha256").update(queueUrl).digest("hex").slice(0, 16);
  return join(tmpdir(), "auditq-spool", hash);
}

function resolveSpool(value: unknown, queueUrl: string): Config["spool"] {
  if (value === false) return undefined;
  if (value === undefined) {
    return Object.freeze({
      dir: defaultSpoolDir(queueUrl),
      maxBytes: DEFAULTS.spoolMaxBytes,
      afterMs: DEFAULTS.spoolAfterMs,
      defaultDir: true,
    });
  }
  if (typeof value !== "object" || value === null) {
    throw new ConfigError(`Expected \`spool\` to be an object or false, got ${describe(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (!["dir", "maxBytes", "afterMs"].includes(key)) {
      throw new ConfigError(`Unknown option \`spool.${key}\``);
    }
  }
  const spool = value as SpoolOptions;
  if (typeof spool.dir !== "string" || spool.dir === "") {
    throw new ConfigError(
      `Expected \`spool.dir\` to be a directory path, got ${describe(spool.dir)}`,
    );
  }
  return Object.freeze({
    dir: spool.dir,
    maxBytes: integer(
      "spool.maxBytes",
      spool.maxBytes,
      DEFAULTS.spoolMaxBytes,
      1024 * 1024,
      Number.MAX_SAFE_INTEGER,
    ),
    afterMs: integer("spool.afterMs", spool.afterMs, DEFAULTS.spoolAfterMs, 0, 3_600_000),
    defaultDir: false,
  });
}

function defaultActor(req: Request): string | number | null | undefined {
  const user = (req as Request & { user?: { id?: unknown } }).user;
  const id = user?.id;
  return typeof id === "string" || typeof id === "number" ? id : null;
}

/** Validates options and fills in defaults. Throws ConfigError naming the bad option. */
export function resolveOptions(options: Options): Config {
  if (typeof options !== "object" || options === null) {
    throw new ConfigError(`Expected options to be an object, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_KEYS.has(key)) throw new ConfigError(`Unknown option \`${key}\``);
  }
  const { queueUrl } = options;
  if (typeof queueUrl !== "string" || !/^https?:\/\/\S+$/.test(queueUrl)) {
    throw new ConfigError(
      `Expected \`queueUrl\` to be an SQS queue URL, got ${describe(queueUrl)}`,
    );
  }
  // auditq retries whole calls and single entries itself, with backoff and the spool behind it;
  // the SDK's own retries (3 attempts by default) would multiply that, so a client auditq builds
  // makes one attempt per call unless the config says otherwise. A client passed in is used as is.
  const sqs =
    options.sqs instanceof SQSClient
      ? options.sqs
      : new SQSClient({ maxAttempts: 1, ...(options.sqs ?? {}) });
  const logger = options.logger ?? consoleLogger;
  const onError = fn<(err: AuditqError) => void>("onError", options.onError, (err) =>
    logger.warn({ err }, err.message),
  );
  if (options.registry !== undefined && !(options.registry instanceof Registry)) {
    throw new ConfigError(
      `Expected \`registry\` to be a prom-client Registry, got ${describe(options.registry)}`,
    );
  }
  return Object.freeze({
    queueUrl,
    sqs,
    actor: fn("actor", options.actor, defaultActor),
    lingerMs: integer("lingerMs", options.lingerMs, DEFAULTS.lingerMs, 0, 60_000),
    maxMessageBytes: integer(
      "maxMessageBytes",
      options.maxMessageBytes,
      DEFAULTS.maxMessageBytes,
      1024,
      SQS_MAX_MESSAGE_BYTES,
    ),
    maxBufferBytes: integer(
      "maxBufferBytes",
      options.maxBufferBytes,
      DEFAULTS.maxBufferBytes,
      1024,
      Number.MAX_SAFE_INTEGER,
    ),
    maxInflight: integer("maxInflight", options.maxInflight, DEFAULTS.maxInflight, 1, 100),
    closeTimeoutMs: integer(
      "closeTimeoutMs",
      options.closeTimeoutMs,
      DEFAULTS.closeTimeoutMs,
      0,
      3_600_000,
    ),
    compression: oneOf("compression", options.compression, DEFAULTS.compression, [
      "br",
      "gzip",
      "none",
    ] as const),
    spool: resolveSpool(options.spool, queueUrl),
    retry: DEFAULTS.retry,
    registry: options.registry ?? new Registry(),
    logger,
    onError,
  });
}

// The middleware's public Options, their defaults in one place, and validation into a Config.

import { createHash } from "node:crypto";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { SQSClient, type SQSClientConfig } from "@aws-sdk/client-sqs";
import type { Request, Response } from "express";
import { Registry, register } from "prom-client";
import type { BackoffPolicy } from "../shared/backoff.js";
import { type AuditqError, ConfigError } from "../shared/errors.js";
import { consoleLogger, type Logger } from "../shared/logger.js";
import type { AuditService } from "../shared/record.js";
import { MIN_SIGNING_SECRET_CHARS } from "../shared/signature.js";
import { isSqsClient } from "../shared/sqs-client.js";
import { SQS_LEGACY_MAX_MESSAGE_BYTES, SQS_MAX_MESSAGE_BYTES } from "../shared/sqs-limits.js";
import { isHealthCheck } from "./health-check.js";
import { DEFAULT_CENSOR, DEFAULT_REDACT_HEADERS } from "./redact.js";
import { DEFAULT_REDACT_KEYS, type KeyMatcher } from "./secret-keys.js";

/** Options of `auditq(options)`. Every option but `queueUrl` is optional. */
export interface Options {
  /** URL of the SQS queue records go to. Required. */
  queueUrl: string;
  /**
   * An `SQSClient` to use, or the config to build one. Default: `new SQSClient({})`, which
   * follows the AWS SDK's own chain (credentials, `AWS_REGION`, `AWS_ENDPOINT_URL_SQS`).
   */
  sqs?: SQSClient | SQSClientConfig | undefined;
  /**
   * Who did it: returns the actor's id, or `{ id, type }`. Default: `req.user?.id`, else
   * `req.user?._id`, else `req.auth?.sub`. Called once, when the response ends, so auth
   * middleware mounted after auditq is seen.
   */
  actor?: ((req: Request, res: Response) => ActorResult) | undefined;
  /**
   * Leaves a request out when it returns true. Called once, when the response ends. Default:
   * {@link isHealthCheck} (GET/HEAD of `/health`, `/healthz`, `/metrics`… or from kube-probe,
   * Prometheus); `() => false` records every request.
   */
  skip?: ((req: Request, res: Response) => boolean) | undefined;
  /** HTTP methods to record, e.g. `["POST", "PUT", "PATCH", "DELETE"]`. Default: every method. */
  methods?: readonly string[] | undefined;
  /** Share of reads (GET, HEAD, OPTIONS) recorded, from 0 to 1. Default 1 (all). */
  sampleRate?: number | undefined;
  /** What is censored. Default: secret headers, and keys like password, token, api key. */
  redact?: RedactOptions | undefined;
  /** Request headers recorded (allow-list, any case). Default: {@link DEFAULT_HEADERS}. */
  headers?: readonly string[] | undefined;
  /** Record what body parsers left on `req.body` (never the raw stream). Default false. */
  captureBody?: boolean | undefined;
  /** Cap on the recorded body; the rest is cut with a `[auditq: truncated]` marker. Default 8192. */
  maxBodyBytes?: number | undefined;
  /**
   * Cap on one serialized record: larger ones have their largest fields replaced by markers,
   * and are still stored. Default 65536 (at most `maxMessageBytes` less 512).
   */
  maxRecordBytes?: number | undefined;
  /** Also record the stack of a captured error (`outcome.errorStack`). Default false. */
  captureErrorStack?: boolean | undefined;
  /** Names the app in every record's `service`, next to host and pid. Default: none. */
  service?: { name?: string | undefined; version?: string | undefined } | undefined;
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
   * Deadline of one SendMessageBatch call: after it the call is abandoned and retried. Also the
   * request timeout of the SQS client auditq builds. Default 15000.
   */
  sendTimeoutMs?: number | undefined;
  /**
   * How message bodies are compressed when that makes them smaller: `"br"` (brotli quality 5,
   * the default), `"gzip"`, or `"none"`. Compressed bodies are base64 text.
   */
  compression?: "br" | "gzip" | "none" | undefined;
  /**
   * Shared secret (16 characters at least) for message signing: every message then carries an
   * `auditq-signature` attribute, an HMAC-SHA256 of its body, and a sidecar given the same
   * `signingSecret` quarantines messages without a valid one. Default: none (unsigned).
   */
  signingSecret?: string | undefined;
  /**
   * The on-disk spool that keeps records through an SQS outage, a full buffer, a crash and a
   * restart. On by default, in `<os.tmpdir()>/auditq-spool-<uid>/<first 16 hex of sha256(queueUrl)>`,
   * which survives a `kill -9` or restart on the same host but not a new container: put
   * `spool.dir` on a persistent volume for that. Processes sharing a directory each take a
   * `slot-N` subdirectory of it. `false`: no spool (records beyond `maxBufferBytes`, and what is
   * in memory when the process dies, are lost).
   */
  spool?: SpoolOptions | false | undefined;
  /** prom-client registry for the metrics. Default: prom-client's global `register`. */
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
  readonly actor: (req: Request, res: Response) => ActorResult;
  readonly skip: (req: Request, res: Response) => boolean;
  readonly methods: ReadonlySet<string> | null;
  readonly sampleRate: number;
  readonly redactHeaders: ReadonlySet<string>;
  readonly redactKeys: KeyMatcher | null;
  readonly redactPaths: readonly (readonly string[])[];
  readonly censor: string;
  readonly headers: readonly string[];
  readonly captureBody: boolean;
  readonly maxBodyBytes: number;
  readonly maxRecordBytes: number;
  readonly captureErrorStack: boolean;
  readonly service: Readonly<AuditService>;
  readonly lingerMs: number;
  readonly maxMessageBytes: number;
  readonly maxBufferBytes: number;
  readonly maxInflight: number;
  readonly closeTimeoutMs: number;
  readonly sendTimeoutMs: number;
  readonly compression: "br" | "gzip" | "none";
  readonly signingSecret: string | undefined;
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

/** What the `actor` option returns: an id, or an id with the kind of actor. */
export type ActorResult =
  | string
  | number
  | null
  | undefined
  | { id: string | number | null | undefined; type?: string | undefined };

/** The `redact` option. */
export interface RedactOptions {
  /** Request headers censored (any case). Default: {@link DEFAULT_REDACT_HEADERS}. */
  headers?: readonly string[] | undefined;
  /**
   * Keys censored wherever they appear in body, query, params, meta and header names: a RegExp,
   * exact names (any case), or an object with `test(key)` (to extend the default:
   * `{ test: (k) => DEFAULT_REDACT_KEYS.test(k) || k === "dob" }`). Default:
   * {@link DEFAULT_REDACT_KEYS}. `[]` turns key matching off.
   */
  keys?: RegExp | readonly string[] | KeyMatcher | undefined;
  /** Exact record paths censored too: `"request.body.card.number"`, `"meta.*.ssn"`. */
  paths?: readonly string[] | undefined;
  /** What censored values become. Default `"[REDACTED]"`. */
  censor?: string | undefined;
}

/** Request headers recorded by default. */
export const DEFAULT_HEADERS: readonly string[] = Object.freeze([
  "accept",
  "content-length",
  "content-type",
  "host",
  "origin",
  "referer",
  "x-forwarded-for",
]);

const DEFAULTS = {
  skip: isHealthCheck,
  sampleRate: 1,
  redactHeaders: DEFAULT_REDACT_HEADERS,
  redactKeys: DEFAULT_REDACT_KEYS,
  censor: DEFAULT_CENSOR,
  headers: DEFAULT_HEADERS,
  captureBody: false,
  maxBodyBytes: 8192,
  maxRecordBytes: 65_536,
  captureErrorStack: false,
  lingerMs: 200,
  maxMessageBytes: SQS_LEGACY_MAX_MESSAGE_BYTES,
  maxBufferBytes: 16 * 1024 * 1024,
  maxInflight: 4,
  closeTimeoutMs: 10_000,
  sendTimeoutMs: 15_000,
  /** A TCP connect to SQS that takes longer than this fails (and is retried). */
  connectionTimeoutMs: 5000,
  compression: "br",
  spoolMaxBytes: 1024 * 1024 * 1024,
  spoolAfterMs: 5000,
  retry: { baseMs: 100, maxMs: 20_000 },
} as const;

const KNOWN_KEYS = new Set<string>([
  "queueUrl",
  "sqs",
  "actor",
  "skip",
  "methods",
  "sampleRate",
  "redact",
  "headers",
  "captureBody",
  "maxBodyBytes",
  "maxRecordBytes",
  "captureErrorStack",
  "service",
  "lingerMs",
  "maxMessageBytes",
  "maxBufferBytes",
  "maxInflight",
  "closeTimeoutMs",
  "sendTimeoutMs",
  "compression",
  "signingSecret",
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

/**
 * The default spool directory of a queue: `<tmpdir>/auditq-spool-<uid>/<hash of queueUrl>`.
 * One directory per user, created 0700 and checked to be this user's on every open, so another
 * local user can neither read it nor pre-create it for us (that is refused, loudly). Not
 * $XDG_RUNTIME_DIR: it is a RAM-backed tmpfs with a small size cap, cleared at logout, so a
 * spool there would take the app's memory during an outage and vanish with the session. Not the
 * home directory: services often run with none, or a read-only one. Outliving a new container
 * takes a `spool.dir` on a persistent volume in any case.
 */
export function defaultSpoolDir(queueUrl: string): string {
  const hash = createHash("sha256").update(queueUrl).digest("hex").slice(0, 16);
  const uid = process.getuid?.();
  return join(tmpdir(), uid === undefined ? "auditq-spool" : `auditq-spool-${uid}`, hash);
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

const READS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Whether `method` is a read, the only kind `sampleRate` thins out. */
export function isRead(method: string): boolean {
  return READS.has(method);
}

// Bytes an envelope and its message attributes may take around the largest record.
const ENVELOPE_HEADROOM_BYTES = 512;

function idOf(value: unknown): string | number | null {
  if (typeof value === "string" || typeof value === "number") return value;
  // An ObjectId (Mongoose, the MongoDB driver) as `req.user._id`.
  if (typeof value === "object" && value !== null) {
    const hex = (value as { toHexString?: unknown }).toHexString;
    if (typeof hex === "function") return String(hex.call(value));
  }
  return null;
}

function defaultActor(req: Request): ActorResult {
  const r = req as Request & { user?: { id?: unknown; _id?: unknown }; auth?: { sub?: unknown } };
  return idOf(r.user?.id) ?? idOf(r.user?._id) ?? idOf(r.auth?.sub);
}

function signingSecret(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value.length < MIN_SIGNING_SECRET_CHARS) {
    throw new ConfigError(
      `Expected \`signingSecret\` to be a string of ${MIN_SIGNING_SECRET_CHARS} characters or more, got ${typeof value === "string" ? `${value.length} characters` : describe(value)}`,
    );
  }
  return value;
}

function boolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") {
    throw new ConfigError(`Expected \`${name}\` to be a boolean, got ${describe(value)}`);
  }
  return value;
}

function strings(name: string, value: unknown, fallback: readonly string[]): readonly string[] {
  if (value === undefined) return fallback;
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string" && v !== "")) {
    throw new ConfigError(
      `Expected \`${name}\` to be an array of non-empty strings, got ${describe(value)}`,
    );
  }
  return Object.freeze([...value]);
}

function text(name: string, value: unknown, fallback: string | undefined): string | undefined {
  if (value === undefined) return fallback;
  if (typeof value !== "string" || value.length > 256) {
    throw new ConfigError(
      `Expected \`${name}\` to be a string of at most 256 characters, got ${describe(value)}`,
    );
  }
  return value;
}

function plainObject(name: string, value: unknown, known: readonly string[]): void {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ConfigError(`Expected \`${name}\` to be an object, got ${describe(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) throw new ConfigError(`Unknown option \`${name}.${key}\``);
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function redactKeys(value: unknown): KeyMatcher | null {
  if (value === undefined) return DEFAULTS.redactKeys;
  // A global or sticky RegExp keeps state between `test` calls; the same pattern without does not.
  if (value instanceof RegExp) return new RegExp(value.source, value.flags.replace(/[gy]/g, ""));
  if (!Array.isArray(value) && typeof (value as KeyMatcher | null)?.test === "function") {
    const matcher = value as KeyMatcher;
    return {
      test(key) {
        try {
          return matcher.test(key) === true;
        } catch {
          // Fail closed: a key the app's rule cannot judge is treated as a secret.
          return true;
        }
      },
    };
  }
  const keys = strings("redact.keys", value, []);
  return keys.length === 0 ? null : new RegExp(`^(?:${keys.map(escapeRegExp).join("|")})$`, "i");
}

/** The capture options of {@link Options}, validated, with their defaults. */
function resolveCapture(options: Options) {
  if (options.redact !== undefined) {
    plainObject("redact", options.redact, ["headers", "keys", "paths", "censor"]);
  }
  if (options.service !== undefined) plainObject("service", options.service, ["name", "version"]);
  const redact: RedactOptions = options.redact ?? {};
  const service = options.service ?? {};
  const { sampleRate } = options;
  if (
    sampleRate !== undefined &&
    (typeof sampleRate !== "number" || !(sampleRate >= 0 && sampleRate <= 1))
  ) {
    throw new ConfigError(
      `Expected \`sampleRate\` to be a number from 0 to 1, got ${describe(sampleRate)}`,
    );
  }
  // The record must fit in one SQS message with its envelope.
  const recordLimit =
    integer(
      "maxMessageBytes",
      options.maxMessageBytes,
      DEFAULTS.maxMessageBytes,
      1024,
      SQS_MAX_MESSAGE_BYTES,
    ) - ENVELOPE_HEADROOM_BYTES;
  const name = text("service.name", service.name, undefined);
  const version = text("service.version", service.version, undefined);
  const methods = strings("methods", options.methods, []);
  return {
    actor: fn("actor", options.actor, defaultActor),
    skip: fn<(req: Request, res: Response) => boolean>("skip", options.skip, DEFAULTS.skip),
    methods: options.methods === undefined ? null : new Set(methods.map((m) => m.toUpperCase())),
    sampleRate: sampleRate ?? DEFAULTS.sampleRate,
    redactHeaders: new Set(
      strings("redact.headers", redact.headers, DEFAULTS.redactHeaders).map((h) => h.toLowerCase()),
    ),
    redactKeys: redactKeys(redact.keys),
    redactPaths: strings("redact.paths", redact.paths, []).map((p) => p.split(".")),
    censor: text("redact.censor", redact.censor, DEFAULTS.censor) as string,
    headers: strings("headers", options.headers, DEFAULTS.headers).map((h) => h.toLowerCase()),
    captureBody: boolean("captureBody", options.captureBody, DEFAULTS.captureBody),
    maxBodyBytes: integer(
      "maxBodyBytes",
      options.maxBodyBytes,
      DEFAULTS.maxBodyBytes,
      64,
      SQS_MAX_MESSAGE_BYTES,
    ),
    maxRecordBytes: integer(
      "maxRecordBytes",
      options.maxRecordBytes,
      Math.min(DEFAULTS.maxRecordBytes, recordLimit),
      Math.min(1024, recordLimit),
      recordLimit,
    ),
    captureErrorStack: boolean(
      "captureErrorStack",
      options.captureErrorStack,
      DEFAULTS.captureErrorStack,
    ),
    service: Object.freeze({
      ...(name === undefined ? {} : { name }),
      ...(version === undefined ? {} : { version }),
      host: hostname(),
      pid: process.pid,
    }),
  };
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
  const sendTimeoutMs = integer(
    "sendTimeoutMs",
    options.sendTimeoutMs,
    DEFAULTS.sendTimeoutMs,
    100,
    600_000,
  );
  if (/\.fifo\/*(?:[?#]|$)/.test(queueUrl)) {
    // A FIFO queue refuses every entry without a MessageGroupId, and one group would serialize
    // all sends; auditq needs no ordering (the sidecar deduplicates by `_id`).
    throw new ConfigError(
      `\`queueUrl\` names a FIFO queue (${queueUrl}); auditq sends to standard queues only: ` +
        "FIFO queues need a MessageGroupId on every message and cap throughput per group, and " +
        "auditq needs neither ordering nor SQS deduplication (records are deduplicated by _id). " +
        "Use a standard queue.",
    );
  }
  // auditq retries whole calls and single entries itself, with backoff and the spool behind it;
  // the SDK's own retries (3 attempts by default) would multiply that, so a client auditq builds
  // makes one attempt per call unless the config says otherwise. It also gets a deadline per
  // request: the SDK's default has none, so a connection that accepts and never answers would
  // hold a call (and, while SQS fails, all sending) forever. A client passed in is used as is,
  // recognised by shape: a client from another copy of the SDK is used as given too.
  const sqs = isSqsClient(options.sqs)
    ? options.sqs
    : new SQSClient({
        maxAttempts: 1,
        requestHandler: {
          requestTimeout: sendTimeoutMs,
          connectionTimeout: Math.min(DEFAULTS.connectionTimeoutMs, sendTimeoutMs),
          // Without it the SDK only logs a warning when requestTimeout passes.
          throwOnRequestTimeout: true,
        },
        ...(options.sqs ?? {}),
      });
  const logger = options.logger ?? consoleLogger;
  if (isSqsClient(options.sqs) && !(options.sqs instanceof SQSClient)) {
    // Used as given all the same: rebuilding it would lose its region, endpoint and middleware.
    logger.warn(
      {},
      "auditq: the SQS client comes from another copy of @aws-sdk/client-sqs than the one auditq loads; " +
        "commands from one copy may not run on a client of another: keep one copy (it is a peer dependency)",
    );
  }
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
    ...resolveCapture(options),
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
    sendTimeoutMs,
    compression: oneOf("compression", options.compression, DEFAULTS.compression, [
      "br",
      "gzip",
      "none",
    ] as const),
    signingSecret: signingSecret(options.signingSecret),
    spool: resolveSpool(options.spool, queueUrl),
    retry: DEFAULTS.retry,
    // The global registry, so an existing `/metrics` route (express-prom-bundle, prom-client's
    // own `register.metrics()`) shows auditq's metrics with no wiring.
    registry: options.registry ?? register,
    logger,
    onError,
  });
}

// The middleware's public Options type, and their resolution into a Config: validated against
// the option table (option-table.ts, where every default is), no I/O, no clients built.
import { createHash } from "node:crypto";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import type { SQSClient, SQSClientConfig } from "@aws-sdk/client-sqs";
import type { Request, Response } from "express";
import type { Registry } from "prom-client";
import { type AuditqError, ConfigError } from "../../shared/util/errors.js";
import { consoleLogger, type Logger } from "../../shared/util/logger.js";
import { type Resolved, resolveTable } from "../../shared/util/option-table.js";
import { invalid } from "../../shared/util/validate.js";
import type { BodyEncoding } from "../../shared/wire/envelope.js";
import type { AuditService } from "../../shared/wire/record.js";
import type { KeyMatcher } from "../capture/redact/secret-keys.js";
import {
  ENVELOPE_HEADROOM_BYTES,
  MIDDLEWARE_OPTIONS,
  REDACT_OPTIONS,
  SERVICE_OPTIONS,
  SPOOL_OPTIONS,
} from "./option-table.js";

/** Options of `auditq(options)`. Every option but `queueUrl` is optional. */
export interface Options {
  /** URL of the SQS queue records go to. Required. */
  queueUrl: string;
  /**
   * An `SQSClient` to use, or the config to build one. Default: `new SQSClient({ maxAttempts: 1,
   * requestHandler: { requestTimeout: sendTimeoutMs, connectionTimeout: 5000,
   * throwOnRequestTimeout: true } })`, which follows the AWS SDK's own chain (credentials,
   * `AWS_REGION`, `AWS_ENDPOINT_URL_SQS`), makes one attempt per call because auditq retries
   * itself, and times each request out. A client passed in is used as is.
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
  service?: ServiceOptions | undefined;
  /** Longest a record waits in memory for more to fill a batch. Default 200. */
  lingerMs?: number | undefined;
  /**
   * The queue's `MaximumMessageSize`. Default 262144 (256 KiB, what every queue accepts);
   * 1048576 for queues raised to 1 MiB.
   */
  maxMessageBytes?: number | undefined;
  /** Memory for records not yet sent; beyond it records are dropped and counted. Default 16777216 (16 MiB). */
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
   * How message bodies are compressed when that makes them smaller: `"br"` (brotli quality 5),
   * `"gzip"`, or `"none"`. Compressed bodies are base64 text. Default `"br"`.
   */
  compression?: "br" | "gzip" | "none" | undefined;
  /**
   * Carry a compressed message as raw bytes in a Binary `auditq-payload` message attribute
   * instead of base64 text in the body: SQS counts (and bills) a quarter fewer bytes, on send
   * and on receive. Sidecars older than this version cannot decode such messages (they
   * quarantine them without their records): upgrade every sidecar first. Default false.
   */
  binaryPayload?: boolean | undefined;
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
  /**
   * When a record counts as captured: `"memory"`, in the batcher's memory (a `kill -9` loses
   * up to `lingerMs` of records); `"disk"`, written to the spool at the end of the event-loop
   * turn, group-committed (`fdatasync`) within 20 ms, and sent from there (a `kill -9` loses
   * none). `"disk"` needs the spool. Default `"memory"`.
   */
  durability?: "memory" | "disk" | undefined;
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
  /** Disk the spool may take; beyond it records are dropped and counted. Default 1073741824 (1 GiB). */
  maxBytes?: number | undefined;
  /** SQS failing this long sends new messages to disk instead of retrying in memory. Default 5000. */
  afterMs?: number | undefined;
}

/** The `service` option. */
export interface ServiceOptions {
  /** The app's name. */
  name?: string | undefined;
  /** The app's version. */
  version?: string | undefined;
}

/** Options with every default filled in. Clients are not built here: see clients.ts. */
export interface Config {
  readonly queueUrl: string;
  /** The client given, or the config to build one from. */
  readonly sqs: SQSClient | SQSClientConfig | undefined;
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
  /** The `compression` option as the body encoding it means (`"none"` is `identity`). */
  readonly compression: BodyEncoding;
  readonly binaryPayload: boolean;
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
  readonly durability: "memory" | "disk";
  readonly registry: Registry | undefined;
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

export { DEFAULT_HEADERS } from "./option-table.js";

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

function resolveSpool(value: SpoolOptions | false | undefined, queueUrl: string): Config["spool"] {
  if (value === false) return undefined;
  if (value === undefined) {
    return Object.freeze({
      dir: defaultSpoolDir(queueUrl),
      maxBytes: SPOOL_OPTIONS.maxBytes.default,
      afterMs: SPOOL_OPTIONS.afterMs.default,
      defaultDir: true,
    });
  }
  return Object.freeze({ ...resolveTable(SPOOL_OPTIONS, value, "spool."), defaultDir: false });
}

const READS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Whether `method` is a read, the only kind `sampleRate` thins out. */
export function isRead(method: string): boolean {
  return READS.has(method);
}

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

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function compileKeys(keys: RegExp | readonly string[] | KeyMatcher): KeyMatcher | null {
  // A global or sticky RegExp keeps state between `test` calls; the same pattern without does not.
  if (keys instanceof RegExp) return new RegExp(keys.source, keys.flags.replace(/[gy]/g, ""));
  if (Array.isArray(keys)) {
    return keys.length === 0 ? null : new RegExp(`^(?:${keys.map(escapeRegExp).join("|")})$`, "i");
  }
  const matcher = keys as KeyMatcher;
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

/**
 * A FIFO queue refuses every entry without a MessageGroupId, and one group would serialize all
 * sends; auditq needs no ordering (the sidecar deduplicates by `_id`).
 */
function refuseFifo(queueUrl: string): void {
  if (/\.fifo\/*(?:[?#]|$)/.test(queueUrl)) {
    throw new ConfigError(
      `\`queueUrl\` names a FIFO queue (${queueUrl}); auditq sends to standard queues only: ` +
        "FIFO queues need a MessageGroupId on every message and cap throughput per group, and " +
        "auditq needs neither ordering nor SQS deduplication (records are deduplicated by _id). " +
        "Use a standard queue.",
      { option: "queueUrl" },
    );
  }
}

/** The record cap: the table's range, narrowed so that a record fits in one message. */
function recordCap(given: number | undefined, fallback: number, maxMessageBytes: number): number {
  const limit = maxMessageBytes - ENVELOPE_HEADROOM_BYTES;
  if (given === undefined) return Math.min(fallback, limit);
  const min = Math.min(1024, limit);
  if (given < min || given > limit) {
    invalid("maxRecordBytes", `an integer from ${min} to ${limit}`, given);
  }
  return given;
}

/** The body encoding a `compression` option value means: `"none"` is `identity`. */
export function bodyEncodingOf(compression: NonNullable<Options["compression"]>): BodyEncoding {
  return compression === "none" ? "identity" : compression;
}

/** Validates options and fills in defaults. Throws ConfigError naming the bad option. */
export function resolveOptions(options: Options): Config {
  if (typeof options !== "object" || options === null) {
    invalid("options", "an object", options);
  }
  const o = resolveTable(MIDDLEWARE_OPTIONS, options);
  refuseFifo(o.queueUrl);
  if (o.durability === "disk" && o.spool === false) {
    throw new ConfigError(
      '`durability: "disk"` appends every record to the spool, but `spool` is `false`: give the spool a directory (on a persistent volume to outlive the container), or use `durability: "memory"`',
      { option: "durability" },
    );
  }
  const redact = resolveTable(REDACT_OPTIONS, o.redact ?? {}, "redact.");
  const service = resolveTable(SERVICE_OPTIONS, o.service ?? {}, "service.");
  const logger = o.logger ?? consoleLogger;
  return Object.freeze({
    queueUrl: o.queueUrl,
    sqs: o.sqs,
    actor: o.actor ?? defaultActor,
    skip: o.skip,
    methods: o.methods === undefined ? null : new Set(o.methods.map((m) => m.toUpperCase())),
    sampleRate: o.sampleRate,
    redactHeaders: new Set(redact.headers.map((h) => h.toLowerCase())),
    redactKeys: compileKeys(redact.keys),
    redactPaths: (redact.paths ?? []).map((p) => p.split(".")),
    censor: redact.censor,
    headers: o.headers.map((h) => h.toLowerCase()),
    captureBody: o.captureBody,
    maxBodyBytes: o.maxBodyBytes,
    maxRecordBytes: recordCap(
      options.maxRecordBytes === undefined ? undefined : o.maxRecordBytes,
      MIDDLEWARE_OPTIONS.maxRecordBytes.default,
      o.maxMessageBytes,
    ),
    captureErrorStack: o.captureErrorStack,
    service: Object.freeze({
      ...(service.name === undefined ? {} : { name: service.name }),
      ...(service.version === undefined ? {} : { version: service.version }),
      host: hostname(),
      pid: process.pid,
    }),
    lingerMs: o.lingerMs,
    maxMessageBytes: o.maxMessageBytes,
    maxBufferBytes: o.maxBufferBytes,
    maxInflight: o.maxInflight,
    closeTimeoutMs: o.closeTimeoutMs,
    sendTimeoutMs: o.sendTimeoutMs,
    compression: bodyEncodingOf(o.compression),
    binaryPayload: o.binaryPayload,
    signingSecret: o.signingSecret,
    spool: resolveSpool(o.spool, o.queueUrl),
    durability: o.durability,
    registry: o.registry,
    logger,
    onError: o.onError ?? ((err: AuditqError) => logger.warn({ err }, err.message)),
  });
}

/** What resolveTable makes of the table; for tests of the table itself. */
export type ResolvedOptions = Resolved<typeof MIDDLEWARE_OPTIONS>;

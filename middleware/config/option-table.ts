// The middleware's options, one row each: rule (type, range), default, one-line doc.
//
// To add an option: add its property (with TSDoc) to `Options` in options.ts, add one row here,
// and run `npm run docs` to regenerate docs/options.md (test/repo/options-doc.test.ts fails
// while the page is stale). TypeScript refuses a table that misses an
// option of `Options`. Read the value from the resolved Config; never write its default anywhere
// else.
import type { SQSClientConfig } from "@aws-sdk/client-sqs";
import type { Request, Response } from "express";
import type { AuditqError } from "../../shared/util/errors.js";
import { type OptionRow, optional, required, withDefault } from "../../shared/util/option-table.js";
import {
  boolean,
  custom,
  fn,
  integer,
  loggerRule,
  matching,
  number,
  object,
  oneOf,
  queueUrl,
  registryRule,
  secret,
  strings,
  text,
} from "../../shared/util/validate.js";
import { MIN_SIGNING_SECRET_CHARS } from "../../shared/wire/signature.js";
import {
  SQS_LEGACY_MAX_MESSAGE_BYTES,
  SQS_MAX_MESSAGE_BYTES,
} from "../../shared/wire/sqs-limits.js";
import { isHealthCheck } from "../capture/health-check.js";
import { DEFAULT_CENSOR, DEFAULT_REDACT_HEADERS } from "../capture/redact/censor.js";
import { DEFAULT_REDACT_KEYS, type KeyMatcher } from "../capture/redact/secret-keys.js";
import { DISK_COMMIT_INTERVAL_MS } from "../spool/writer.js";
import type {
  ActorResult,
  Options,
  RedactOptions,
  ServiceOptions,
  SpoolOptions,
} from "./options.js";

/** Bytes an envelope and its message attributes may take around the largest record. */
export const ENVELOPE_HEADROOM_BYTES = 512;

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

const isPlainObject = (v: unknown) => typeof v === "object" && v !== null && !Array.isArray(v);

type Handler<T> = (req: Request, res: Response) => T;

export const MIDDLEWARE_OPTIONS = {
  queueUrl: required(
    queueUrl,
    "URL of the SQS queue; a standard queue (a `.fifo` URL throws a `ConfigError`: FIFO queues need a `MessageGroupId` per message and cap throughput per group, and auditq needs neither ordering nor SQS deduplication)",
    { aliases: ["queue", "sqsQueueUrl", "url"] },
  ),
  sqs: optional(
    object<SQSClientConfig>("SQSClient | SQSClientConfig", "an SQSClient or an SQSClient config"),
    "`new SQSClient({ maxAttempts: 1, requestHandler: { requestTimeout: sendTimeoutMs, connectionTimeout: 5000, throwOnRequestTimeout: true } })`",
    "client to use, or its config; a client auditq builds makes one attempt per call, because auditq retries itself, and times each request out",
  ),
  actor: optional(
    fn<Handler<ActorResult>>("(req, res) => id | { id, type } | null"),
    "`req.user?.id`, `req.user?._id`, `req.auth?.sub`",
    "the actor, resolved once when the response ends",
  ),
  tenant: optional(
    fn<Handler<string | number | null | undefined>>("(req, res) => id | null"),
    "none: no `tenant` field",
    "the tenant (whose data it was), resolved once when the response ends and stored as `tenant`; a reader bound to a tenant reads only its records",
  ),
  skip: withDefault(
    fn<Handler<boolean>>("(req, res) => boolean"),
    isHealthCheck,
    "`true` leaves the request out; called once, when the response ends. The default leaves out GET/HEAD of `HEALTH_CHECK_PATHS` (`/health`, `/healthz`, `/healthcheck`, `/health-check`, `/livez`, `/readyz`, `/live`, `/ready`, `/liveness`, `/readiness`, `/ping`, `/metrics`, any case, trailing slash allowed) and from `HEALTH_CHECK_AGENTS` (`kube-probe/`, `Prometheus/`, `ELB-HealthChecker/`, `GoogleHC/`, `Consul Health Check`); `() => false` records every request",
    { shown: "`isHealthCheck`" },
  ),
  methods: optional(
    strings,
    "every method",
    'methods recorded, e.g. `["POST", "PUT", "PATCH", "DELETE"]`',
  ),
  sampleRate: withDefault(number(0, 1), 1, "share of reads (GET, HEAD, OPTIONS) recorded"),
  redact: optional(
    object<RedactOptions>("{ headers?, keys?, paths?, censor? }", "an object"),
    "the `redact.*` defaults",
    "what is censored, in the rows below",
  ),
  headers: withDefault(strings, DEFAULT_HEADERS, "request headers recorded (allow-list)"),
  captureBody: withDefault(
    boolean,
    false,
    "record what body parsers left on `req.body` (never the raw stream)",
  ),
  maxBodyBytes: withDefault(
    integer(64, SQS_MAX_MESSAGE_BYTES),
    8192,
    "cap on the recorded body; the rest is cut with a `[auditq: truncated]` marker",
  ),
  maxRecordBytes: withDefault(
    integer(512, SQS_MAX_MESSAGE_BYTES - ENVELOPE_HEADROOM_BYTES),
    65_536,
    "cap on one record (at most `maxMessageBytes` − 512); larger ones have their largest fields replaced by a marker, listed in `trimmed`, and are still stored",
  ),
  captureErrorStack: withDefault(
    boolean,
    false,
    "also record the error's stack (`outcome.errorStack`)",
  ),
  service: optional(
    object<ServiceOptions>("{ name?, version? }", "an object"),
    "none",
    "names the app in `service`, next to host and pid",
  ),
  lingerMs: withDefault(
    integer(0, 60_000),
    200,
    "longest a record waits for more records to fill a batch",
  ),
  maxMessageBytes: withDefault(
    integer(1024, SQS_MAX_MESSAGE_BYTES),
    SQS_LEGACY_MAX_MESSAGE_BYTES,
    "the queue's `MaximumMessageSize`, also used as the per-call total; set `1048576` for queues raised to 1 MiB",
  ),
  maxBufferBytes: withDefault(
    integer(1024),
    16 * 1024 * 1024,
    "memory for unsent records (raw, encoded and in flight); beyond it records go to the spool, or are dropped and counted",
  ),
  maxInflight: withDefault(integer(1, 100), 4, "`SendMessageBatch` calls in flight at once"),
  closeTimeoutMs: withDefault(
    integer(0, 3_600_000),
    10_000,
    "how long `close()` waits for the buffer and the spool to drain",
  ),
  sendTimeoutMs: withDefault(
    integer(100, 600_000),
    15_000,
    "deadline of one `SendMessageBatch` call; a call past it is abandoned and retried (also the request timeout of a client auditq builds)",
  ),
  compression: withDefault(
    oneOf(["br", "gzip", "zstd", "none"] as const),
    "br",
    'body compression when it makes a message smaller (brotli quality 5; base64 body; named in the `auditq-encoding` attribute); `"zstd"` (level 1) costs a sixth of brotli\'s CPU for 5–11 % more bytes and needs sidecars of this version or later, see [zstd](#zstd-compression-upgrade-sidecars-first)',
  ),
  binaryPayload: withDefault(
    boolean,
    false,
    "carry a compressed message as raw bytes in a Binary `auditq-payload` attribute instead of base64 in the body: a quarter fewer bytes billed on send and receive; needs sidecars of this version or later, see [Binary payload](#binary-payload-upgrade-sidecars-first)",
  ),
  signingSecret: optional(
    secret(MIN_SIGNING_SECRET_CHARS),
    "none",
    "shared secret (16+ characters): every message carries an `auditq-signature` attribute (HMAC-SHA256 of its body); see [Message signing](#message-signing)",
  ),
  spool: optional(
    custom<SpoolOptions | false>(
      "{ dir, maxBytes?, afterMs? } | false",
      "an object or false",
      (v) => v === false || isPlainObject(v),
    ),
    "on, in `<os.tmpdir()>/auditq-spool-<uid>/<first 16 hex of sha256(queueUrl)>`",
    "the on-disk spool; `false`: memory only",
  ),
  durability: withDefault(
    oneOf(["memory", "disk"] as const),
    "memory",
    `when a record counts as captured: \`"memory"\` once in the batcher's memory; \`"disk"\` once appended to the spool and \`fdatasync\`ed, in group commits at most every ${DISK_COMMIT_INTERVAL_MS} ms, and sent from the spool (needs the spool); see [Durability](#durability-what-survives-a-crash)`,
  ),
  registry: optional(
    registryRule,
    "prom-client's global `register`",
    "where the metrics go (`audit.registry`); several middlewares on one registry add up",
  ),
  logger: optional(loggerRule, "warnings to the console", "`{ debug, info, warn, error }`"),
  onError: optional(
    fn<(err: AuditqError) => void>("(err: AuditqError) => void"),
    "log a warning",
    "every error inside auditq; never thrown into the app",
  ),
} satisfies Record<keyof Options, OptionRow<unknown>>;

/** The `redact` option's keys. */
export const REDACT_OPTIONS = {
  headers: withDefault(strings, DEFAULT_REDACT_HEADERS, "request headers censored"),
  keys: withDefault(
    custom<RegExp | readonly string[] | KeyMatcher>(
      "RegExp | string[] | KeyMatcher",
      "a RegExp, an array of non-empty strings, or an object with a test(key) method",
      (v) =>
        v instanceof RegExp ||
        (Array.isArray(v) && v.every((s) => typeof s === "string" && s !== "")) ||
        (typeof v === "object" &&
          v !== null &&
          !Array.isArray(v) &&
          typeof (v as { test?: unknown }).test === "function"),
    ),
    DEFAULT_REDACT_KEYS,
    "keys censored anywhere in body, query, params, meta and header names (`[]`: none); a `KeyMatcher` is any `{ test(key) }`; see [Secrets](#secrets-what-the-defaults-censor)",
    { shown: "`DEFAULT_REDACT_KEYS`" },
  ),
  paths: optional(
    strings,
    "none",
    'record paths censored too: `"request.body.customer.birthDate"`, `"meta.*.ssn"`',
  ),
  censor: withDefault(text(256), DEFAULT_CENSOR, "what censored values become"),
} satisfies Record<keyof RedactOptions, OptionRow<unknown>>;

/** The `service` option's keys. */
export const SERVICE_OPTIONS = {
  name: optional(text(256), "none", "the app's name"),
  version: optional(text(256), "none", "the app's version"),
} satisfies Record<keyof ServiceOptions, OptionRow<unknown>>;

/** The `spool` option's keys (its object form). */
export const SPOOL_OPTIONS = {
  dir: required(
    matching(/^.+$/s, "a directory path"),
    "base directory of the spool; each process takes a `slot-N` subdirectory of it",
  ),
  maxBytes: withDefault(
    integer(1024 * 1024),
    1024 * 1024 * 1024,
    "disk the spool may take; beyond it records are dropped and counted",
  ),
  afterMs: withDefault(
    integer(0, 3_600_000),
    5000,
    "once SQS has failed this long, messages go to the spool instead of waiting in memory",
  ),
} satisfies Record<keyof SpoolOptions, OptionRow<unknown>>;

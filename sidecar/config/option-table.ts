// The sidecar's options, one row each: rule (type, range), default, one-line doc.
// The same rows give the CLI its environment variables and flags (cli/args.ts) and its --help.
//
// To add an option: add its property (with TSDoc) to `SidecarOptions` in options.ts, add one
// row here, and run `npm run docs` to regenerate docs/options.md (test/repo/options-doc.test.ts
// fails while the page is stale). TypeScript refuses a table that
// misses an option of `SidecarOptions`. A rule with a text form (integer, number, boolean,
// string, JSON) is read from `AUDITQ_<NAME>` and `--<name>` too, with no further code; one
// without (a client, a registry) is library-only. Read the value from the resolved Config; never
// write its default anywhere else.
import type { SQSClientConfig } from "@aws-sdk/client-sqs";
import type { MongoClient, WriteConcernSettings } from "mongodb";
import { type OptionRow, optional, required, withDefault } from "../../shared/util/option-table.js";
import * as rules from "../../shared/util/validate.js";
import { MAX_RECORDS_PER_MESSAGE } from "../../shared/wire/envelope.js";
import { MIN_SIGNING_SECRET_CHARS } from "../../shared/wire/signature.js";
import {
  SQS_MAX_VISIBILITY_TIMEOUT_SECONDS,
  SQS_MAX_WAIT_TIME_SECONDS,
} from "../../shared/wire/sqs-limits.js";
import { LEASE_LIFETIME_MS } from "../fleet/lease-check.js";
import { DEFAULT_METRICS_HOST } from "../http.js";
import { isMongoClient } from "./mongo-shape.js";
import type { IndexKeys, SidecarOptions } from "./options.js";

const DATABASE_NAME = /^[^/\\. "$*<>:|?]{1,63}$/;
const COLLECTION_NAME = /^(?!system\.)[^$\0]{1,120}$/;
const MONGODB_URI = /^mongodb(\+srv)?:\/\/\S+$/;

const isIndexKeys = (keys: unknown) =>
  typeof keys === "object" &&
  keys !== null &&
  !Array.isArray(keys) &&
  Object.keys(keys).length > 0 &&
  Object.values(keys).every((d) => d === 1 || d === -1 || typeof d === "string");

export const SIDECAR_OPTIONS = {
  queueUrl: required(rules.queueUrl, "URL of the SQS queue", {
    aliases: ["queue", "sqsQueueUrl", "sqsUrl", "queueName"],
  }),
  mongo: required(
    rules.custom<MongoClient | string>(
      "MongoClient | string",
      "a MongoClient or a connection string (mongodb://...)",
      (v) => (typeof v === "string" && MONGODB_URI.test(v)) || isMongoClient(v),
      "string",
    ),
    "connection string (or, in the library, a `MongoClient`)",
    {
      cliKey: "mongodbUri",
      aliases: ["mongo", "mongoUri", "mongoUrl", "mongodbUrl", "mongodb", "mongoConnectionString"],
    },
  ),
  database: withDefault(
    rules.matching(DATABASE_NAME, "a valid MongoDB name"),
    "auditq",
    "database name",
  ),
  collection: withDefault(
    rules.matching(COLLECTION_NAME, "a valid MongoDB name"),
    "records",
    "collection of the records",
  ),
  quarantineCollection: withDefault(
    rules.matching(COLLECTION_NAME, "a valid MongoDB name"),
    "records_quarantine",
    "what cannot be stored, with the reason",
  ),
  sqs: optional(
    rules.object<SQSClientConfig>(
      "SQSClient | SQSClientConfig",
      "an SQSClient or an SQSClient config",
    ),
    "the AWS SDK's chain, `maxAttempts: 1`",
    "client to use, or its config (library only); a client built from a config makes one attempt per call unless the config says otherwise",
  ),
  pollers: withDefault(
    rules.integer(1, 100),
    2,
    "concurrent long polls while receives come back full (`MaxNumberOfMessages` 10 each); one otherwise",
  ),
  waitTimeSeconds: withDefault(
    rules.integer(0, SQS_MAX_WAIT_TIME_SECONDS),
    SQS_MAX_WAIT_TIME_SECONDS,
    "long-poll wait",
  ),
  visibilityTimeoutSeconds: withDefault(
    rules.integer(2, SQS_MAX_VISIBILITY_TIMEOUT_SECONDS),
    60,
    "asked for at receive; heartbeats extend it at half-time while a message is being written",
  ),
  bulkSize: withDefault(rules.integer(1, 100_000), 500, "most records per `insertMany`"),
  bulkWaitMs: withDefault(
    rules.integer(0, 60_000),
    200,
    "longest a record waits for a bulk to fill",
  ),
  writeConcern: withDefault(
    rules.object<WriteConcernSettings>(
      "WriteConcernSettings",
      'an object like { "w": "majority", "journal": true }',
      "json",
    ),
    { w: "majority", journal: true },
    "write concern of every insert",
  ),
  maxWriteRate: withDefault(
    rules.number(0),
    0,
    "records written per second at most by the whole fleet (every sidecar on this database and collection), split through leases in `leaseCollection`; each sidecar writes at its share (token bucket). `0`: no limit and no leases",
    { aliases: ["writeRate", "maxRate", "rateLimit", "writesPerSecond"] },
  ),
  leaseCollection: withDefault(
    rules.matching(COLLECTION_NAME, "a valid MongoDB name"),
    "sidecar_leases",
    "collection (in `database`) of the fleet's leases, used when `maxWriteRate` > 0, and of the retention sweeper's lease when `retentionDays` > 0",
  ),
  leaseLifetimeMs: withDefault(
    rules.integer(LEASE_LIFETIME_MS.min, LEASE_LIFETIME_MS.max),
    6_000,
    "how long a lease counts without renewal (renewed every third of it); a sidecar that dies stops counting within this time. In a fleet of more than `maxWriteRate` × this / 300,000 sidecars (`maxWriteRate` / 50 at the default), renewals slow down (up to every 20 s) so that leases cost 2 % of `maxWriteRate`, and a lease counts 1.2 × the extra period longer",
  ),
  mongoTimeoutMs: withDefault(
    rules.integer(100, 600_000),
    10_000,
    "deadline of every MongoDB operation (insert, quarantine, lease, probe); past it the operation fails and its messages are released",
  ),
  maxInflightWrites: withDefault(rules.integer(1, 1000), 4, "`insertMany` calls in flight at most"),
  adaptiveConcurrency: withDefault(
    rules.boolean,
    true,
    "lower write concurrency on failed writes or when MongoDB's write latency rises well above its moving average and deviation (AIMD, as Vector's adaptive request concurrency), raise it back when it recovers",
  ),
  maxBufferedRecords: withDefault(
    rules.integer(1, 10_000_000),
    10_000,
    "records received and not yet written, at most",
  ),
  maxRecordsPerMessage: withDefault(
    rules.integer(1, 1_000_000),
    MAX_RECORDS_PER_MESSAGE,
    "records one message may hold; a message with more is quarantined from its bytes, never parsed",
  ),
  maxQuarantineRate: withDefault(
    rules.number(0),
    10,
    "quarantine entries written per second at most by this sidecar (a token bucket of one second), on top of `maxWriteRate`, which they spend from too; a message refused beyond it is released with backoff, never deleted. `0`: no cap",
  ),
  signingSecret: optional(
    rules.secrets(MIN_SIGNING_SECRET_CHARS, 2),
    "none",
    "message signing: messages without a valid signature are quarantined unparsed; two secrets (comma-separated, an array in the library) during a rotation",
  ),
  digests: withDefault(
    rules.boolean,
    true,
    "store a digest of each stored message in `<collection>_digests` before deleting it (what `auditq verify` checks): one more write per message, spent from `maxWriteRate`",
  ),
  digestSigningKey: optional(
    rules.secret(8),
    "none",
    "Ed25519 private key that signs each digest, as PEM text or the path of a PEM file; verifiers need only its public key (`auditq verify --public-key`)",
  ),
  indexes: withDefault(
    rules.custom<readonly IndexKeys[]>(
      "IndexKeys[]",
      'an array of index keys like { "actor.id": 1, "_id": -1 }',
      (v) => Array.isArray(v) && v.every(isIndexKeys),
      "json",
    ),
    // The reader's filters (sidecar/read/), each an equality then `_id`, the sort (MongoDB's
    // ESR rule), and the proof's stream order. What each costs a write: docs/reading.md#indexes.
    // test/unit/sidecar/read/index-fit.test.ts fails when a filter has no index here.
    [
      { "actor.id": 1, _id: -1 },
      { action: 1, _id: -1 },
      { "target.type": 1, _id: -1 },
      { "target.id": 1, _id: -1 },
      { "outcome.status": 1, _id: -1 },
      { "service.name": 1, _id: -1 },
      { "request.requestId": 1, _id: -1 },
      { tenant: 1, _id: -1 },
      { "seq.stream": 1, "seq.n": 1 },
    ],
    "secondary indexes ensured at start: one per filter of the reader ([reading.md](reading.md#indexes)) and `seq.stream`, `seq.n`, which serves the stream gap gauge and `auditq verify`",
  ),
  retentionDays: withDefault(
    rules.number(0),
    0,
    "records older than this many days (by `_id` and `ts`) are deleted by a paced sweep: one sidecar of the fleet at a time, oldest first, each deletion spending from `maxWriteRate` like an insert, never a record under a legal hold (`auditq hold`). `0`: keep forever",
  ),
  retentionIntervalMs: withDefault(
    rules.integer(1_000, 604_800_000),
    3_600_000,
    "pause between two retention sweeps (and between tries for the sweeper lease in `leaseCollection`), when `retentionDays` > 0",
  ),
  streamGapSettleMs: withDefault(
    rules.integer(100, 3_600_000),
    60_000,
    "how long a producer stream's records may be missing before `auditq_sidecar_stream_gap_records` counts them; also how often it is measured",
  ),
  shutdownTimeoutMs: withDefault(
    rules.integer(0, 3_600_000),
    25_000,
    "deadline of a graceful stop",
  ),
  registry: optional(
    rules.registryRule,
    "a private one",
    "where the metrics go (`sidecar.registry`; library only)",
  ),
  logger: optional(
    rules.loggerRule,
    "warnings to the console",
    "`{ debug, info, warn, error }` (library only; the CLI logs JSON with pino)",
  ),
} satisfies Record<keyof SidecarOptions, OptionRow<unknown>>;

/** Levels the CLI's pino logger takes. */
const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;

/**
 * Port of /metrics, /healthz and /readyz. Not 9464: that is the OpenTelemetry Prometheus
 * exporter's default, and two listeners on one port in one pod crash-loop. Prometheus's list of
 * default exporter ports has filled 9100-9999, so a port outside it that no well-known exporter
 * or ecosystem component uses.
 */
export const DEFAULT_METRICS_PORT = 8466;

/** Settings of the `auditq-sidecar` command only (not options of `createSidecar`). */
export const CLI_OPTIONS = {
  metricsPort: withDefault(
    rules.integer(0, 65_535),
    DEFAULT_METRICS_PORT,
    "port of `/metrics`, `/healthz`, `/readyz` (CLI only)",
  ),
  metricsHost: withDefault(
    rules.matching(/^\S{1,255}$/, "an address to bind, such as 0.0.0.0 or 127.0.0.1"),
    DEFAULT_METRICS_HOST,
    "address the ops server binds: all interfaces, as probes and scrapes from outside a container need; `127.0.0.1` to keep it local (CLI only)",
  ),
  /**
   * Connections the ops server keeps at once; a connection past it is closed at once. Its honest
   * clients are a few probes and one or two Prometheus servers, one short GET each. The cap keeps
   * slow clients from taking the file descriptors that SQS and MongoDB need: with the lowest
   * common limit, 1,024 (Node raises the soft limit to the hard one at start; containers usually
   * have far more), the SQS client's 50 sockets, MongoDB's pool of 100 plus 2 monitors for each
   * of 3 servers (306), Node's own and the logs' (about 30) and 64 here leave more than half free.
   * Default `64`.
   */
  metricsMaxConnections: withDefault(
    rules.integer(1, 1_000),
    64,
    "connections the ops server keeps at once; one past it is closed at once, so that slow clients cannot take the file descriptors SQS and MongoDB need (CLI only)",
  ),
  logLevel: withDefault(rules.oneOf(LOG_LEVELS), "info", "pino level (CLI only)"),
  allowUnknownEnv: withDefault(
    rules.boolean,
    false,
    "start even when an `AUDITQ_*` variable is no setting but near one (a misspelling, or another tool's name for a setting); it is then only a warning (CLI only)",
  ),
} satisfies Record<string, OptionRow<unknown>>;

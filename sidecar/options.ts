// The sidecar's public options, their defaults in one place, and their resolution into a Config.
import type { SQSClient, SQSClientConfig } from "@aws-sdk/client-sqs";
import type { IndexDirection, MongoClient, WriteConcernSettings } from "mongodb";
import type { Registry } from "prom-client";
import { ConfigError } from "../shared/errors.js";
import type { Logger } from "../shared/logger.js";
import { MIN_SIGNING_SECRET_CHARS } from "../shared/signature.js";
import {
  SQS_MAX_VISIBILITY_TIMEOUT_SECONDS,
  SQS_MAX_WAIT_TIME_SECONDS,
} from "../shared/sqs-limits.js";

/** Keys of a secondary index, e.g. `{ "actor.id": 1, ts: -1 }`. */
export type IndexKeys = Record<string, IndexDirection>;

/** Options of `createSidecar(options)`. `undefined` means "not set": the default applies. */
export interface SidecarOptions {
  /** URL of the SQS queue to consume. Required. */
  queueUrl: string;
  /** A `MongoClient` (connected or not), or a connection string. Required. */
  mongo: MongoClient | string;
  /** Database name. Default `"auditq"`. */
  database?: string | undefined;
  /** Collection of the records. Default `"records"`. */
  collection?: string | undefined;
  /** Collection of records and messages that cannot be stored. Default `"records_quarantine"`. */
  quarantineCollection?: string | undefined;
  /** An `SQSClient`, or the config to build one. Default: the AWS SDK's own chain. */
  sqs?: SQSClient | SQSClientConfig | undefined;
  /** Long-poll loops running at once. Default 2. */
  pollers?: number | undefined;
  /** Long-poll wait, 0 to 20 seconds. Default 20. */
  waitTimeSeconds?: number | undefined;
  /** How long a received message stays hidden; heartbeats extend it while it is written. Default 60. */
  visibilityTimeoutSeconds?: number | undefined;
  /** Most records in one `insertMany`. Default 500. */
  bulkSize?: number | undefined;
  /** Longest a record waits for a bulk to fill before a smaller bulk is written. Default 200. */
  bulkWaitMs?: number | undefined;
  /** Write concern of inserts. Default `{ w: "majority", journal: true }`. */
  writeConcern?: WriteConcernSettings | undefined;
  /**
   * Records written per second at most by the whole fleet: every sidecar writing to the same
   * database and collection, coordinated through leases in `leaseCollection`. Each sidecar
   * writes at its share (token bucket). 0 = no limit and no leases. Default 0.
   */
  maxWriteRate?: number | undefined;
  /** Collection (in `database`) of the fleet's leases, used when `maxWriteRate` > 0. Default `"sidecar_leases"`. */
  leaseCollection?: string | undefined;
  /**
   * How long a lease counts without renewal; renewed every third of it. A sidecar that dies
   * stops counting within this time. Default 6000.
   */
  leaseLifetimeMs?: number | undefined;
  /**
   * Deadline of every MongoDB operation (insert, quarantine, lease, probe): past it the
   * operation counts as failed and its messages are released. A client the sidecar builds also
   * gets it as `socketTimeoutMS`. Default 10000.
   */
  mongoTimeoutMs?: number | undefined;
  /** `insertMany` calls in flight at most. Default 4. */
  maxInflightWrites?: number | undefined;
  /** Lower write concurrency when MongoDB's write latency rises above its baseline. Default true. */
  adaptiveConcurrency?: boolean | undefined;
  /** Records received but not yet written, at most; pollers wait beyond it. Default 10000. */
  maxBufferedRecords?: number | undefined;
  /**
   * Records one message may hold; a message with more is quarantined before it is parsed.
   * Default 10000 (the producer's own maximum).
   */
  maxRecordsPerMessage?: number | undefined;
  /**
   * Shared secret of message signing (the producer's `signingSecret`): messages without a valid
   * `auditq-signature` are quarantined unparsed. During a key rotation, two: `[new, old]`.
   * Default: none (messages are not checked).
   */
  signingSecret?: string | readonly string[] | undefined;
  /** Secondary indexes ensured at start. Default `[{ "actor.id": 1, ts: -1 }, { action: 1, ts: -1 }]`. */
  indexes?: IndexKeys[] | undefined;
  /** Delete records older than this many days (a TTL index on `ts`); 0 = keep forever. Default 0. */
  retentionDays?: number | undefined;
  /** How long `stop()` may take before it releases what is left and returns. Default 25000. */
  shutdownTimeoutMs?: number | undefined;
  /** prom-client registry for the metrics. Default: a private one, `sidecar.registry`. */
  registry?: Registry | undefined;
  /** A pino-compatible logger. Default: warnings and errors to the console. */
  logger?: Logger | undefined;
}

/** The fully resolved, read-only settings the sidecar runs with. */
export interface Config {
  readonly queueUrl: string;
  readonly database: string;
  readonly collection: string;
  readonly quarantineCollection: string;
  readonly pollers: number;
  readonly waitTimeSeconds: number;
  readonly visibilityTimeoutSeconds: number;
  readonly bulkSize: number;
  readonly bulkWaitMs: number;
  readonly writeConcern: WriteConcernSettings;
  readonly maxWriteRate: number;
  readonly leaseCollection: string;
  readonly leaseLifetimeMs: number;
  readonly mongoTimeoutMs: number;
  readonly maxInflightWrites: number;
  readonly adaptiveConcurrency: boolean;
  readonly maxBufferedRecords: number;
  readonly maxRecordsPerMessage: number;
  /** Empty when messages are not checked. */
  readonly signingSecrets: readonly string[];
  readonly indexes: readonly IndexKeys[];
  readonly retentionDays: number;
  readonly shutdownTimeoutMs: number;
}

/** Every default, in one place. The README's settings table states the same facts. */
export const DEFAULTS = {
  database: "auditq",
  collection: "records",
  quarantineCollection: "records_quarantine",
  pollers: 2,
  waitTimeSeconds: SQS_MAX_WAIT_TIME_SECONDS,
  visibilityTimeoutSeconds: 60,
  bulkSize: 500,
  bulkWaitMs: 200,
  writeConcern: { w: "majority", journal: true } as WriteConcernSettings,
  maxWriteRate: 0,
  leaseCollection: "sidecar_leases",
  leaseLifetimeMs: 6_000,
  mongoTimeoutMs: 10_000,
  maxInflightWrites: 4,
  adaptiveConcurrency: true,
  maxBufferedRecords: 10_000,
  maxRecordsPerMessage: 10_000,
  indexes: [
    { "actor.id": 1, ts: -1 },
    { action: 1, ts: -1 },
  ] as IndexKeys[],
  retentionDays: 0,
  shutdownTimeoutMs: 25_000,
} as const;

const KNOWN = new Set<string>([
  "queueUrl",
  "mongo",
  "sqs",
  "registry",
  "logger",
  "signingSecret",
  ...Object.keys(DEFAULTS),
]);

function describe(value: unknown): string {
  return `\`${typeof value === "object" ? JSON.stringify(value) : String(value)}\` (${typeof value})`;
}

function int(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(
      `Expected \`${name}\` to be an integer from ${min} to ${max}, got ${describe(value)}`,
    );
  }
  return value;
}

function num(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new ConfigError(
      `Expected \`${name}\` to be a number from 0 and up, got ${describe(value)}`,
    );
  }
  return value;
}

function name(option: string, value: unknown, fallback: string, pattern: RegExp): string {
  if (value === undefined) return fallback;
  if (typeof value !== "string" || !pattern.test(value)) {
    throw new ConfigError(
      `Expected \`${option}\` to be a valid MongoDB name, got ${describe(value)}`,
    );
  }
  return value;
}

const DATABASE_NAME = /^[^/\\. "$*<>:|?]{1,63}$/;
const COLLECTION_NAME = /^(?!system\.)[^$\0]{1,120}$/;

function indexes(value: unknown): IndexKeys[] {
  if (value === undefined) return DEFAULTS.indexes;
  const ok =
    Array.isArray(value) &&
    value.every(
      (keys) =>
        typeof keys === "object" &&
        keys !== null &&
        !Array.isArray(keys) &&
        Object.keys(keys).length > 0 &&
        Object.values(keys).every((d) => d === 1 || d === -1 || typeof d === "string"),
    );
  if (!ok) {
    throw new ConfigError(
      `Expected \`indexes\` to be an array of index keys like { "actor.id": 1, "ts": -1 }, got ${describe(value)}`,
    );
  }
  return value as IndexKeys[];
}

/** At most two: the current secret and, during a rotation, the one being retired. */
function signingSecrets(value: unknown): readonly string[] {
  if (value === undefined) return [];
  const list = typeof value === "string" ? [value] : value;
  const ok =
    Array.isArray(list) &&
    list.length >= 1 &&
    list.length <= 2 &&
    list.every((s) => typeof s === "string" && s.length >= MIN_SIGNING_SECRET_CHARS);
  if (!ok) {
    throw new ConfigError(
      `Expected \`signingSecret\` to be one or two strings of ${MIN_SIGNING_SECRET_CHARS} characters or more, got ${Array.isArray(list) ? `${list.length} value(s)` : typeof value}`,
    );
  }
  return Object.freeze([...(list as string[])]);
}

function writeConcern(value: unknown): WriteConcernSettings {
  if (value === undefined) return DEFAULTS.writeConcern;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ConfigError(
      `Expected \`writeConcern\` to be an object like { "w": "majority", "journal": true }, got ${describe(value)}`,
    );
  }
  return value as WriteConcernSettings;
}

/** Validates `options` and fills in defaults. Never mutates `options`. Throws ConfigError. */
export function resolveOptions(options: SidecarOptions): Config {
  if (typeof options !== "object" || options === null) {
    throw new ConfigError("Expected sidecar options to be an object");
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new ConfigError(`Unknown sidecar option \`${key}\``);
  }
  if (typeof options.queueUrl !== "string" || !/^https?:\/\/\S+$/.test(options.queueUrl)) {
    throw new ConfigError(
      `Expected \`queueUrl\` to be an SQS queue URL (https://...), got ${describe(options.queueUrl)}`,
    );
  }
  const o = options;
  if (o.adaptiveConcurrency !== undefined && typeof o.adaptiveConcurrency !== "boolean") {
    throw new ConfigError(
      `Expected \`adaptiveConcurrency\` to be a boolean, got ${describe(o.adaptiveConcurrency)}`,
    );
  }
  return Object.freeze({
    queueUrl: o.queueUrl,
    database: name("database", o.database, DEFAULTS.database, DATABASE_NAME),
    collection: name("collection", o.collection, DEFAULTS.collection, COLLECTION_NAME),
    quarantineCollection: name(
      "quarantineCollection",
      o.quarantineCollection,
      DEFAULTS.quarantineCollection,
      COLLECTION_NAME,
    ),
    pollers: int("pollers", o.pollers, DEFAULTS.pollers, 1, 100),
    waitTimeSeconds: int(
      "waitTimeSeconds",
      o.waitTimeSeconds,
      DEFAULTS.waitTimeSeconds,
      0,
      SQS_MAX_WAIT_TIME_SECONDS,
    ),
    visibilityTimeoutSeconds: int(
      "visibilityTimeoutSeconds",
      o.visibilityTimeoutSeconds,
      DEFAULTS.visibilityTimeoutSeconds,
      2,
      SQS_MAX_VISIBILITY_TIMEOUT_SECONDS,
    ),
    bulkSize: int("bulkSize", o.bulkSize, DEFAULTS.bulkSize, 1, 100_000),
    bulkWaitMs: int("bulkWaitMs", o.bulkWaitMs, DEFAULTS.bulkWaitMs, 0, 60_000),
    writeConcern: writeConcern(o.writeConcern),
    maxWriteRate: num("maxWriteRate", o.maxWriteRate, DEFAULTS.maxWriteRate),
    leaseCollection: name(
      "leaseCollection",
      o.leaseCollection,
      DEFAULTS.leaseCollection,
      COLLECTION_NAME,
    ),
    leaseLifetimeMs: int(
      "leaseLifetimeMs",
      o.leaseLifetimeMs,
      DEFAULTS.leaseLifetimeMs,
      1_000,
      600_000,
    ),
    mongoTimeoutMs: int("mongoTimeoutMs", o.mongoTimeoutMs, DEFAULTS.mongoTimeoutMs, 100, 600_000),
    maxInflightWrites: int(
      "maxInflightWrites",
      o.maxInflightWrites,
      DEFAULTS.maxInflightWrites,
      1,
      1000,
    ),
    adaptiveConcurrency: o.adaptiveConcurrency ?? DEFAULTS.adaptiveConcurrency,
    maxBufferedRecords: int(
      "maxBufferedRecords",
      o.maxBufferedRecords,
      DEFAULTS.maxBufferedRecords,
      1,
      10_000_000,
    ),
    maxRecordsPerMessage: int(
      "maxRecordsPerMessage",
      o.maxRecordsPerMessage,
      DEFAULTS.maxRecordsPerMessage,
      1,
      1_000_000,
    ),
    signingSecrets: signingSecrets(o.signingSecret),
    indexes: indexes(o.indexes),
    retentionDays: num("retentionDays", o.retentionDays, DEFAULTS.retentionDays),
    shutdownTimeoutMs: int(
      "shutdownTimeoutMs",
      o.shutdownTimeoutMs,
      DEFAULTS.shutdownTimeoutMs,
      0,
      3_600_000,
    ),
  });
}

// The sidecar's public options type: what `createSidecar(options)` accepts (resolve.ts checks it).
import type { SQSClient, SQSClientConfig } from "@aws-sdk/client-sqs";
import type { IndexDirection, MongoClient, WriteConcernSettings } from "mongodb";
import type { Registry } from "prom-client";
import type { Logger } from "../../shared/util/logger.js";

/** Keys of a secondary index, e.g. `{ "actor.id": 1, _id: -1 }`. */
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
   * operation counts as failed and its messages are released. The conflict check of redelivered
   * records may take up to 6 times it while MongoDB answers pings. A client the sidecar builds
   * gets it as `connectTimeoutMS`, and 7 times it as `socketTimeoutMS`. Default 10000.
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
   * Quarantine entries (refused records, undecodable or unsigned messages, conflicts) this
   * sidecar writes per second at most, a token bucket of one second; they also spend from
   * `maxWriteRate`. A message whose entry the cap refuses is released with a growing delay, never
   * deleted, so a flood ends in the queue's dead-letter queue rather than in MongoDB. 0 = no cap.
   * Default 10.
   */
  maxQuarantineRate?: number | undefined;
  /**
   * Shared secret of message signing (the producer's `signingSecret`): messages without a valid
   * `auditq-signature` are quarantined unparsed. During a key rotation, two: `[new, old]`.
   * Default: none (messages are not checked).
   */
  signingSecret?: string | readonly string[] | undefined;
  /**
   * Secondary indexes ensured at start. Default: one per filter of the reader, each its field then
   * `_id` (`{ "actor.id": 1, _id: -1 }`, `action`, `target.type`, `target.id`, `outcome.status`,
   * `service.name`, `request.requestId`, `tenant`), and `{ "seq.stream": 1, "seq.n": 1 }`
   * (docs/reading.md#indexes).
   */
  indexes?: readonly IndexKeys[] | undefined;
  /** Delete records older than this many days (a TTL index on `ts`); 0 = keep forever. Default 0. */
  retentionDays?: number | undefined;
  /** How long `stop()` may take before it releases what is left and returns. Default 25000. */
  shutdownTimeoutMs?: number | undefined;
  /** prom-client registry for the metrics. Default: a private one, `sidecar.registry`. */
  registry?: Registry | undefined;
  /** A pino-compatible logger. Default: warnings and errors to the console. */
  logger?: Logger | undefined;
}

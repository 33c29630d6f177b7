// What the batcher is built from: resolved options and injected dependencies.
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { BackoffPolicy } from "../../shared/util/backoff.js";
import type { AuditqError } from "../../shared/util/errors.js";
import type { Logger } from "../../shared/util/logger.js";
import type { BodyEncoding } from "../../shared/wire/envelope.js";
import type { MiddlewareMetrics } from "../config/metrics.js";

export interface SpoolConfig {
  /** Base directory: this process takes its first free `slot-N` subdirectory (N = 0..63). */
  dir: string;
  /**
   * The directory is auditq's default, not the user's: if it cannot be used, one warning is
   * logged (instead of an error reported to onError) and the batcher runs memory-only.
   */
  defaultDir?: boolean | undefined;
  /**
   * The top `dir` hangs from (the OS temp dir, for the default): every level below it is
   * created and checked as private (middleware/spool/dir-chain.ts).
   */
  top?: string | undefined;
  maxBytes: number;
  /** SQS failing for this long sends new messages to the spool instead of retrying in memory. */
  afterMs: number;
}

export interface BatcherConfig {
  sqs: SQSClient;
  queueUrl: string;
  lingerMs: number;
  maxMessageBytes: number;
  maxBatchBytes: number;
  maxBufferBytes: number;
  maxInflight: number;
  retry: BackoffPolicy;
  logger: Logger;
  metrics: MiddlewareMetrics;
  onError: (err: AuditqError) => void;
  /** Default: the `compression` option's default. */
  compression?: BodyEncoding | undefined;
  /** Compressed messages as raw bytes in a binary attribute. Default: the option's default. */
  binaryPayload?: boolean | undefined;
  /** Default MAX_RECORDS_PER_MESSAGE. */
  maxRecordsPerMessage?: number | undefined;
  /** Abort one SendMessageBatch call after this long. Default: the `sendTimeoutMs` option's. */
  sendTimeoutMs?: number | undefined;
  /** No spool: records beyond maxBufferBytes are dropped. */
  spool?: SpoolConfig | undefined;
  /**
   * "disk": every record goes to the spool (group commits, DISK_COMMIT_INTERVAL_MS apart at
   * most) and is sent from there. Needs `spool`. Default "memory".
   */
  durability?: "memory" | "disk" | undefined;
  /** Signs every message (HMAC attribute) at send; the limits above must leave room for it. */
  signingSecret?: string | undefined;
}

// Records given up on: each counted in the dropped metric by reason, and reported to onError,
// at most once per interval for drops that happen per request during a long outage.

import { AuditqError } from "../../shared/util/errors.js";
import { callHook } from "../../shared/util/hooks.js";
import type { Logger } from "../../shared/util/logger.js";
import type { LossReason } from "../../shared/wire/stream.js";
import type { DropReason, MiddlewareMetrics } from "../config/metrics.js";
import type { ProducerStream } from "./stream.js";

/** Drops reported at most once per interval, with the count since the last report. */
const THROTTLED: ReadonlySet<DropReason> = new Set(["buffer_full", "spool_full"]);

export interface DropReporterConfig {
  queueUrl: string;
  metrics: MiddlewareMetrics;
  logger: Logger;
  onError: (err: AuditqError) => void;
  /** The stream whose records are dropped: numbered drops are stated lost in it. */
  stream?: ProducerStream | undefined;
}

/**
 * The loss reason a drop is stated with, in the stream's next message. `closed` is only ever
 * used for numbered records at close()'s deadline (a record captured after close() gets no
 * number). `rejected` and `invalid` have no loss reason of the envelope (stream.ts): they
 * stay unexplained gaps, reported to onError with the record.
 */
const LOSS_REASON: Partial<Record<DropReason, LossReason>> = {
  too_large: "too-large",
  buffer_full: "buffer-full",
  spool_full: "buffer-full",
  closed: "close-timeout",
  corrupt: "spool-lost",
};

/** Drops for lack of room are reported to onError at most once per this interval, per reason. */
const DROP_REPORT_INTERVAL_MS = 10_000;

export class DropReporter {
  private readonly config: DropReporterConfig;
  private droppedRecords = 0;
  private readonly lastReport = new Map<DropReason, number>();
  private readonly suppressed = new Map<DropReason, number>();

  constructor(config: DropReporterConfig) {
    this.config = config;
  }

  /** Records dropped so far. */
  get dropped(): number {
    return this.droppedRecords;
  }

  /** Counts and reports `count` records given up on. Returns false, for `add()` to return. */
  drop(
    reason: DropReason,
    count: number,
    message: string,
    cause?: unknown,
    details?: Record<string, unknown>,
  ): false {
    this.config.metrics.recordsDropped.inc({ reason }, count);
    this.droppedRecords += count;
    let text = message;
    if (THROTTLED.has(reason)) {
      // Under a long outage this happens per request: report once per interval, with a count.
      const now = Date.now();
      const pending = (this.suppressed.get(reason) ?? 0) + count;
      const last = this.lastReport.get(reason) ?? Number.NEGATIVE_INFINITY;
      if (now - last < DROP_REPORT_INTERVAL_MS) {
        this.suppressed.set(reason, pending);
        return false;
      }
      this.lastReport.set(reason, now);
      this.suppressed.set(reason, 0);
      text = `${pending} records dropped (${reason}) since the last report; ${message}`;
    }
    this.emit(
      new AuditqError(
        reason === "too_large" ? "ERR_AUDITQ_TOO_LARGE" : "ERR_AUDITQ_DROPPED",
        text,
        {
          cause,
          details: { ...details, reason, records: count, queueUrl: this.config.queueUrl },
        },
      ),
    );
    return false;
  }

  /**
   * {@link drop} of records whose stream numbers are known (`ns`; undefined entries are
   * counted, not stated): the ranges are stated lost on the stream's next message.
   */
  dropNumbered(
    reason: DropReason,
    ns: readonly (number | undefined)[],
    message: string,
    cause?: unknown,
    details?: Record<string, unknown>,
  ): false {
    const loss = LOSS_REASON[reason];
    if (loss && this.config.stream) {
      const known = ns.filter((n): n is number => n !== undefined);
      if (known.length > 0) this.config.stream.lose(known, loss);
    }
    return this.drop(reason, ns.length, message, cause, details);
  }

  /** Reports an error that cost no record (yet): SQS failing, the spool unusable. */
  report(
    code: "ERR_AUDITQ_SQS" | "ERR_AUDITQ_SPOOL",
    message: string,
    cause: unknown,
    retryable = false,
  ): void {
    this.emit(
      new AuditqError(code, message, {
        cause,
        retryable,
        details: { queueUrl: this.config.queueUrl },
      }),
    );
  }

  private emit(err: AuditqError): void {
    callHook(this.config.onError, err, this.config.logger, "onError");
  }
}

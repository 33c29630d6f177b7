// Delivers a batch from any message source: the call (sqs-call.ts), then what SQS's verdict on
// each entry means for the source: sent (ack), failed on SQS's side (retry with backoff) or
// refused as ours (reject, re-pack). Also the counts and metrics of every call.
import type { SQSClient } from "@aws-sdk/client-sqs";
import { billedRequests } from "../../shared/wire/sqs-limits.js";
import type { MiddlewareMetrics } from "../config/metrics.js";
import type { Encoder } from "../message/encoder.js";
import { type EncodedMessage, totalBytes } from "../message/packer.js";
import { ByteTally } from "./byte-queue.js";
import type { DropReporter } from "./drop-reporter.js";
import type { SendFailures } from "./failures.js";
import type { OutgoingBatch } from "./sources/source.js";
import { pick } from "./sources/source.js";
import { type CallVerdicts, sendBatchWithin } from "./sqs-call.js";

export interface BatchSenderConfig {
  sqs: SQSClient;
  queueUrl: string;
  maxMessageBytes: number;
  maxBatchBytes: number;
  sendTimeoutMs: number;
  signingSecret?: string | undefined;
  metrics: MiddlewareMetrics;
  drops: DropReporter;
  failures: SendFailures;
  encoder: Encoder;
  /** Aborts calls in flight when the close deadline passes. */
  abortSignal: AbortSignal;
  /** Whether close() was called, and whether its deadline passed (for the backoff). */
  closing: () => { closing: boolean; draining: boolean };
}

export class BatchSender {
  private readonly config: BatchSenderConfig;
  private sent = 0;
  private callBytesLimit: number;
  /** Calls in flight (or reading their batch from the spool first), with their bytes. */
  readonly inflight = new ByteTally();

  constructor(config: BatchSenderConfig) {
    this.config = config;
    this.callBytesLimit = config.maxBatchBytes;
  }

  /** Records SQS accepted so far. */
  get sentRecords(): number {
    return this.sent;
  }

  /** maxBatchBytes, lowered when SQS says a call was too long (a queue below the option). */
  get maxCallBytes(): number {
    return this.callBytesLimit;
  }

  /**
   * One call with the batch a source gives: `reserve` bytes are counted in flight from now (so
   * add() cannot fill that room meanwhile), the batch's real size once it is known.
   */
  async sendFrom(reserve: number, next: Promise<OutgoingBatch | undefined>): Promise<void> {
    const job = this.inflight.begin(reserve);
    try {
      const batch = await next;
      job.resize(batch ? totalBytes(batch.messages) : 0);
      if (batch) await this.send(batch);
    } finally {
      job.end();
    }
  }

  async send(batch: OutgoingBatch): Promise<void> {
    const { metrics } = this.config;
    const messages = batch.messages;
    const stopTimer = metrics.sendSeconds.startTimer();
    let verdicts: CallVerdicts;
    try {
      verdicts = await sendBatchWithin(
        this.config.sqs,
        this.config.queueUrl,
        messages,
        this.config.sendTimeoutMs,
        this.config.abortSignal,
        this.config.signingSecret,
      );
    } catch (err) {
      stopTimer();
      metrics.sqsRequests.inc({ operation: "SendMessageBatch", outcome: "error" });
      if ((err as { name?: unknown }).name === "BatchRequestTooLong") {
        this.callTooLong(batch, err);
        return;
      }
      // Whatever the error, the records stay: a non-retryable error (a missing queue, denied
      // access) is an operator's problem that may be fixed while the process runs.
      this.retry(
        batch,
        messages.map((_, i) => i),
      );
      this.guarded(() => this.failed(err));
      return;
    }
    stopTimer();
    // SQS has answered: from here on nothing may put the entries it stored back to be sent.
    // A failure in the bookkeeping below (the app's logger throwing, the spool's disk) used to
    // send the whole call again, and count its records again, each time it failed.
    await this.applyVerdicts(batch, verdicts).catch((err: unknown) =>
      this.config.drops.report(
        "ERR_AUDITQ_SQS",
        "bookkeeping after a SendMessageBatch failed",
        err,
      ),
    );
  }

  /** Acts on SQS's verdict per entry: counts what it stored, re-packs, retries the rest. */
  private async applyVerdicts(batch: OutgoingBatch, verdicts: CallVerdicts): Promise<void> {
    const { metrics, encoder } = this.config;
    const messages = batch.messages;
    metrics.sqsRequests.inc({ operation: "SendMessageBatch", outcome: "ok" });
    metrics.billedRequests.inc(
      { operation: "SendMessageBatch" },
      billedRequests(totalBytes(messages)),
    );
    metrics.messagesPerCall.observe(messages.length);
    for (const i of verdicts.sent) {
      const env = messages[i] as EncodedMessage;
      this.sent += env.records;
      metrics.recordsSent.inc(env.records);
      metrics.sentBytes.inc(env.bytes);
      metrics.recordsPerMessage.observe(env.records);
    }
    if (verdicts.retry.length > 0) this.retry(batch, verdicts.retry);
    for (const r of verdicts.rejected) {
      encoder.repack(messages[r.index] as EncodedMessage, `${r.code} ${r.message}`);
    }
    const forgotten: Promise<void>[] = [];
    if (verdicts.sent.length > 0) forgotten.push(batch.ack(verdicts.sent));
    if (verdicts.rejected.length > 0) {
      forgotten.push(batch.reject(verdicts.rejected.map((r) => r.index)));
    }
    const results = await Promise.allSettled(forgotten);
    if (verdicts.retry.length > 0) {
      this.failed(new Error(`SQS failed ${verdicts.retry.length} entries on its side`));
    } else {
      this.config.failures.succeeded();
    }
    for (const r of results) if (r.status === "rejected") throw r.reason;
  }

  /** Runs bookkeeping that calls the app's logger; a throw is reported, never propagated. */
  private guarded(step: () => void): void {
    try {
      step();
    } catch (err) {
      this.config.drops.report(
        "ERR_AUDITQ_SQS",
        "bookkeeping after a failed SendMessageBatch failed",
        err,
      );
    }
  }

  private retry(batch: OutgoingBatch, indices: readonly number[]): void {
    const again = pick(batch.messages, indices);
    this.config.metrics.retries.inc(again.reduce((n, e) => n + e.records, 0));
    batch.retry(indices);
  }

  private failed(cause: unknown): void {
    this.config.failures.failed(cause, this.config.closing());
  }

  /**
   * SQS refused the call as too long: the queue's limit is below maxMessageBytes. Send smaller
   * calls from now on; a message that is too long alone is dropped, not retried forever.
   */
  private callTooLong(batch: OutgoingBatch, err: unknown): void {
    const messages = batch.messages;
    const bytes = totalBytes(messages);
    if (messages.length > 1) {
      this.callBytesLimit = Math.min(this.callBytesLimit, Math.floor(bytes / 2));
      this.config.drops.report(
        "ERR_AUDITQ_SQS",
        `SQS refused a call of ${bytes} bytes as too long; calls now carry at most ${this.callBytesLimit} bytes (check maxMessageBytes against the queue's MaximumMessageSize)`,
        err,
      );
      batch.retry(messages.map((_, i) => i));
      return;
    }
    const env = messages[0] as EncodedMessage;
    void batch.reject([0]);
    this.config.encoder.repack(
      env,
      `message of ${env.bytes} bytes too long (maxMessageBytes ${this.config.maxMessageBytes} is above the queue's MaximumMessageSize)`,
    );
  }
}

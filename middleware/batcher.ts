// Buffers captured records in process memory and ships them to SQS in packed batch calls.
import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { Document } from "bson";
import { type BackoffPolicy, backoffDelay } from "../shared/backoff.js";
import {
  ENVELOPE_ATTRIBUTES,
  ENVELOPE_OVERHEAD_BYTES,
  envelopeBody,
  messageBytes,
  serializeRecord,
  utf8Bytes,
} from "../shared/envelope.js";
import { AuditqError, isRetryableAwsError } from "../shared/errors.js";
import type { Logger } from "../shared/logger.js";
import { SQS_MAX_BATCH_ENTRIES } from "../shared/sqs-limits.js";
import type { MiddlewareMetrics } from "./metrics.js";

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
}

/** A record already serialized for an envelope. */
interface Item {
  json: string;
  bytes: number;
}

/** One SQS message of a batch: the records it packs. */
interface Message {
  items: Item[];
  bytes: number;
}

const ATTRIBUTE_BYTES = messageBytes("", ENVELOPE_ATTRIBUTES);

export type DropReason = "too_large" | "buffer_full" | "closed" | "rejected";

/**
 * The per-process batcher. `add()` never blocks and never throws; the send loop packs as many
 * records per message and as many messages per SendMessageBatch call as the limits allow,
 * retries what SQS did not take, and backs off while SQS fails.
 */
export class Batcher {
  private readonly config: BatcherConfig;
  private buffer: Item[] = [];
  private bufferedBytes = 0;
  private lingerTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private inflight = 0;
  private failures = 0;
  private forced = false;
  private closed = false;
  private idleWaiters: Array<() => void> = [];

  constructor(config: BatcherConfig) {
    this.config = config;
  }

  /** Records waiting in memory. */
  get bufferedRecords(): number {
    return this.buffer.length;
  }

  /** Queues one record. Returns false (and reports why) when the record was dropped. */
  add(record: Document): boolean {
    if (this.closed) return this.drop("closed", 1, "auditq is closed; record dropped");
    const json = serializeRecord(record);
    const item = { json, bytes: utf8Bytes(json) };
    if (item.bytes + ENVELOPE_OVERHEAD_BYTES + ATTRIBUTE_BYTES > this.config.maxMessageBytes) {
      return this.drop(
        "too_large",
        1,
        `record of ${item.bytes} bytes does not fit in one SQS message (maxMessageBytes ${this.config.maxMessageBytes})`,
      );
    }
    if (this.bufferedBytes + item.bytes > this.config.maxBufferBytes) {
      return this.drop(
        "buffer_full",
        1,
        `buffer holds ${this.bufferedBytes} bytes (maxBufferBytes ${this.config.maxBufferBytes}); record dropped`,
      );
    }
    this.buffer.push(item);
    this.bufferedBytes += item.bytes;
    this.updateGauges();
    if (this.bufferedBytes >= this.config.maxBatchBytes) this.pump();
    else this.armLinger();
    return true;
  }

  /** Resolves once every record buffered so far has been sent (or dropped). */
  flush(): Promise<void> {
    this.forced = true;
    this.pump();
    return this.whenIdle();
  }

  /**
   * Stops taking records and flushes, waiting at most `timeoutMs`. Records still unsent at the
   * deadline are reported through `onError` and counted as dropped with reason `closed`.
   */
  async close(timeoutMs: number): Promise<void> {
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    try {
      const result = await Promise.race([this.flush().then(() => "done" as const), deadline]);
      if (result === "timeout" && this.buffer.length > 0) {
        const count = this.buffer.length;
        this.buffer = [];
        this.bufferedBytes = 0;
        this.updateGauges();
        this.drop(
          "closed",
          count,
          `close() deadline of ${timeoutMs} ms passed with ${count} records unsent`,
        );
      }
    } finally {
      clearTimeout(timer);
      clearTimeout(this.lingerTimer);
      clearTimeout(this.retryTimer);
    }
  }

  private drop(reason: DropReason, count: number, message: string): false {
    this.config.metrics.recordsDropped.inc({ reason }, count);
    this.config.onError(
      new AuditqError(
        reason === "too_large" ? "ERR_AUDITQ_TOO_LARGE" : "ERR_AUDITQ_DROPPED",
        message,
        {
          details: { reason, records: count, queueUrl: this.config.queueUrl },
        },
      ),
    );
    return false;
  }

  private armLinger(): void {
    if (this.lingerTimer !== undefined) return;
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = undefined;
      this.forced = true;
      this.pump();
    }, this.config.lingerMs);
    this.lingerTimer.unref();
  }

  /** Starts as many sends as allowed by inflight limit, backoff and what is buffered. */
  private pump(): void {
    while (
      this.retryTimer === undefined &&
      this.inflight < this.config.maxInflight &&
      this.buffer.length > 0 &&
      (this.forced || this.bufferedBytes >= this.config.maxBatchBytes)
    ) {
      const batch = this.takeBatch();
      this.inflight++;
      void this.send(batch).finally(() => {
        this.inflight--;
        this.pump();
        this.notifyIfIdle();
      });
    }
    if (this.buffer.length === 0) {
      this.forced = false;
      clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
    }
    this.notifyIfIdle();
  }

  /** Packs records from the head of the buffer into at most 10 messages within the byte limits. */
  private takeBatch(): Message[] {
    const { maxMessageBytes, maxBatchBytes } = this.config;
    const messages: Message[] = [];
    let batchBytes = 0;
    let current: Message | undefined;
    let taken = 0;
    while (taken < this.buffer.length) {
      const item = this.buffer[taken] as Item;
      const added = item.bytes + (current && current.items.length > 0 ? 1 : 0);
      if (
        current &&
        current.bytes + added <= maxMessageBytes &&
        batchBytes + added <= maxBatchBytes
      ) {
        current.items.push(item);
        current.bytes += added;
        batchBytes += added;
        taken++;
        continue;
      }
      // Start a new message, if the batch has room for one.
      const fresh = ENVELOPE_OVERHEAD_BYTES + ATTRIBUTE_BYTES + item.bytes;
      if (messages.length === SQS_MAX_BATCH_ENTRIES || batchBytes + fresh > maxBatchBytes) break;
      current = { items: [item], bytes: fresh };
      messages.push(current);
      batchBytes += fresh;
      taken++;
    }
    this.buffer = this.buffer.slice(taken);
    this.bufferedBytes -= messages.reduce(
      (n, m) => n + m.items.reduce((s, i) => s + i.bytes, 0),
      0,
    );
    this.updateGauges();
    return messages;
  }

  private async send(messages: Message[]): Promise<void> {
    const entries: SendMessageBatchRequestEntry[] = messages.map((m, i) => ({
      Id: String(i),
      MessageBody: envelopeBody(m.items.map((item) => item.json)),
      MessageAttributes: ENVELOPE_ATTRIBUTES,
    }));
    const { metrics } = this.config;
    const stopTimer = metrics.sendSeconds.startTimer();
    try {
      const out = await this.config.sqs.send(
        new SendMessageBatchCommand({ QueueUrl: this.config.queueUrl, Entries: entries }),
      );
      stopTimer();
      metrics.sqsRequests.inc({ operation: "SendMessageBatch", outcome: "ok" });
      this.failures = 0;
      let sent = 0;
      for (const ok of out.Successful ?? []) sent += messages[Number(ok.Id)]?.items.length ?? 0;
      metrics.recordsSent.inc(sent);
      const retry: Item[] = [];
      for (const failed of out.Failed ?? []) {
        const message = messages[Number(failed.Id)];
        if (!message) continue;
        if (failed.SenderFault) {
          // SQS says the message itself is wrong: sending it again cannot help.
          this.drop(
            "rejected",
            message.items.length,
            `SQS rejected a message of ${message.items.length} records: ${failed.Code} ${failed.Message ?? ""}`,
          );
        } else {
          retry.push(...message.items);
        }
      }
      if (retry.length > 0) this.requeue(retry, new Error("SendMessageBatch entries failed"));
    } catch (err) {
      stopTimer();
      metrics.sqsRequests.inc({ operation: "SendMessageBatch", outcome: "error" });
      // Whatever the error, the records stay: a non-retryable error (a missing queue, denied
      // access) is an operator's problem that may be fixed while the process runs.
      this.requeue(
        messages.flatMap((m) => m.items),
        err,
      );
    }
  }

  /** Puts unsent records back at the head of the buffer and pauses sending for a backoff delay. */
  private requeue(items: Item[], cause: unknown): void {
    this.buffer = items.concat(this.buffer);
    this.bufferedBytes += items.reduce((n, i) => n + i.bytes, 0);
    this.updateGauges();
    this.failures++;
    this.config.metrics.retries.inc(items.length);
    const delay = backoffDelay(this.failures, this.config.retry);
    this.config.logger.warn(
      {
        err: cause,
        records: items.length,
        retryInMs: delay,
        retryable: isRetryableAwsError(cause),
      },
      "SQS send failed; will retry",
    );
    if (this.retryTimer === undefined) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.forced = true;
        this.pump();
      }, delay);
      this.retryTimer.unref();
    }
  }

  private updateGauges(): void {
    this.config.metrics.bufferRecords.set(this.buffer.length);
    this.config.metrics.bufferBytes.set(this.bufferedBytes);
  }

  private whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return this.buffer.length === 0 && this.inflight === 0;
  }

  private notifyIfIdle(): void {
    if (!this.isIdle() || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

// Buffers captured records in process memory and ships them to SQS in packed batch calls,
// through the on-disk spool when SQS fails for long or memory runs short.
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { Document } from "bson";
import { type BackoffPolicy, backoffDelay } from "../shared/backoff.js";
import { type BodyEncoding, MAX_RECORDS_PER_MESSAGE } from "../shared/envelope.js";
import { AuditqError, isRetryableAwsError } from "../shared/errors.js";
import type { Logger } from "../shared/logger.js";
import { serializeRecord } from "../shared/record-json.js";
import { billedRequests, SQS_MAX_BATCH_ENTRIES, utf8Bytes } from "../shared/sqs-limits.js";
import { type DropReason, DropReporter } from "./drop-reporter.js";
import { KeepAlive } from "./keep-alive.js";
import type { MiddlewareMetrics } from "./metrics.js";
import { MIDDLEWARE_OPTIONS } from "./option-table.js";
import { bodyEncodingOf } from "./options.js";
import { batchSize, type EncodedMessage, type Item, Packer, totalBytes } from "./packer.js";
import type { Spool, SpoolEntry } from "./spool.js";
import { isRefusal } from "./spool-files.js";
import { openSlot, type SlotOpen, SPOOL_SLOTS } from "./spool-slots.js";
import { sendBatchWithin } from "./sqs-sender.js";
import { sqsSafeJson } from "./sqs-text.js";
import { unpackItems } from "./unpack.js";

export interface SpoolConfig {
  /** Base directory: this process takes its first free `slot-N` subdirectory (N = 0..63). */
  dir: string;
  /**
   * The directory is auditq's default, not the user's: if it cannot be used, one warning is
   * logged (instead of an error reported to onError) and the batcher runs memory-only.
   */
  defaultDir?: boolean | undefined;
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
  /** Default "br". */
  /** Default: the `compression` option's default. */
  compression?: BodyEncoding | undefined;
  /** Default MAX_RECORDS_PER_MESSAGE. */
  maxRecordsPerMessage?: number | undefined;
  /** Abort one SendMessageBatch call after this long. Default: the `sendTimeoutMs` option's. */
  sendTimeoutMs?: number | undefined;
  /** No spool: records beyond maxBufferBytes are dropped. */
  spool?: SpoolConfig | undefined;
  /** Drops for lack of room are reported to onError at most once per interval. Default 10,000. */
  dropReportIntervalMs?: number | undefined;
  /** Signs every message (HMAC attribute) at send; the limits above must leave room for it. */
  signingSecret?: string | undefined;
}

export type { DropReason };

/** What `close()` achieved. */
export interface CloseReport {
  /** Records SQS accepted over the batcher's life. */
  sent: number;
  /** Records left in the spool for the next process to send. */
  spooled: number;
  /** Records given up on during close (no spool, or the spool was full). */
  dropped: number;
}

interface Waiter {
  done: () => boolean;
  resolve: () => void;
}

/**
 * The per-process batcher. `add()` never blocks, never throws and never awaits: it serializes
 * one record and appends it to an array. Everything else happens on the flush path: records are
 * packed into messages (compressed off the event loop), messages into SendMessageBatch calls of
 * at most 10, sent with at most `maxInflight` calls at once, and retried with capped exponential
 * backoff. When SQS has failed for `spool.afterMs`, or memory is half full, encoded messages go
 * to the on-disk spool, which is replayed, oldest first, as soon as SQS takes messages again.
 */
export class Batcher {
  private readonly config: BatcherConfig;
  private readonly packer: Packer;
  private readonly maxRecordsPerMessage: number;
  private buffer: Item[] = [];
  private bufferedBytes = 0;
  /** Encoded messages waiting to be sent: new ones at the tail, retries at the head. */
  private ready: EncodedMessage[] = [];
  private readyBytes = 0;
  private encodingJobs = 0;
  private encodingBytes = 0;
  private inflight = 0;
  private inflightBytes = 0;
  private spoolInflight = 0;
  private spilling = false;
  private spillingBytes = 0;
  private spool: Spool | undefined;
  private readonly spoolOpening: Promise<void>;
  private spoolFailedAt = Number.NEGATIVE_INFINITY;
  private failures = 0;
  private failingSince: number | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private pumpScheduled = false;
  /** The linger timer fired: this many records at the head of the buffer must be encoded now. */
  private lingerRecords = 0;
  /** ...and sent once encoded, in a part-filled call if need be. */
  private lingerDue = false;
  /** flush() calls waiting. */
  private flushing = 0;
  private closed = false;
  /** Close reached its deadline: everything in memory goes to the spool now. */
  private draining = false;
  private readonly abort = new AbortController();
  private readonly keepAlive = new KeepAlive();
  private sentRecords = 0;
  private readonly drops: DropReporter;
  private waiters: Waiter[] = [];
  /** maxBatchBytes, lowered when SQS says a call was too long (a queue below the option). */
  private batchBytesLimit: number;

  constructor(config: BatcherConfig) {
    this.config = config;
    this.drops = new DropReporter(config);
    this.batchBytesLimit = config.maxBatchBytes;
    this.maxRecordsPerMessage = config.maxRecordsPerMessage ?? MAX_RECORDS_PER_MESSAGE;
    this.packer = new Packer({
      maxMessageBytes: config.maxMessageBytes,
      maxBatchBytes: config.maxBatchBytes,
      compression: config.compression ?? bodyEncodingOf(MIDDLEWARE_OPTIONS.compression.default),
      maxRecordsPerMessage: this.maxRecordsPerMessage,
    });
    this.spoolOpening = config.spool ? this.openSpool(config.spool) : Promise.resolve();
  }

  /** Records waiting in memory, not yet packed. */
  get bufferedRecords(): number {
    return this.buffer.length;
  }

  /** Records in the spool (undefined before it is open, or without one). */
  get spooledRecords(): number | undefined {
    return this.spool?.records;
  }

  /** Bytes held in memory: unpacked records, messages being encoded, waiting or in flight. */
  memoryBytes(): number {
    return (
      this.bufferedBytes +
      this.encodingBytes +
      this.readyBytes +
      this.inflightBytes +
      this.spillingBytes
    );
  }

  /** Queues one record. Returns false (and reports why) when the record was dropped. */
  add(record: Document): boolean {
    try {
      if (this.closed) return this.drops.drop("closed", 1, "auditq is closed; record dropped");
      const json = sqsSafeJson(serializeRecord(record));
      const item: Item = { json, bytes: utf8Bytes(json) };
      if (this.packer.surelyTooLarge(item)) {
        return this.drops.drop(
          "too_large",
          1,
          `record of ${item.bytes} bytes does not fit in one SQS message (maxMessageBytes ${this.config.maxMessageBytes})`,
        );
      }
      if (this.memoryBytes() + item.bytes > this.config.maxBufferBytes) {
        return this.drops.drop(
          "buffer_full",
          1,
          `memory holds ${this.memoryBytes()} bytes (maxBufferBytes ${this.config.maxBufferBytes})`,
        );
      }
      this.buffer.push(item);
      this.bufferedBytes += item.bytes;
      if (this.fullMessageBuffered()) this.schedulePump();
      else this.armLinger();
      return true;
    } catch (err) {
      return this.drops.drop("invalid", 1, "record could not be serialized", err);
    }
  }

  /** Resolves once every record added so far has been sent to SQS (or dropped), spool included. */
  flush(): Promise<void> {
    return this.keepAlive.during(() => this.flushNow());
  }

  private async flushNow(): Promise<void> {
    await this.spoolOpening;
    this.flushing++;
    try {
      this.pump();
      await this.until(() => this.isIdle() && !this.spool?.hasPending());
    } finally {
      this.flushing--;
    }
  }

  /**
   * Stops taking records; sends what is in memory and in the spool until `timeoutMs`. Shortly
   * before the deadline, whatever is still in memory goes to the spool (left for the next start)
   * or, without a spool, is dropped with reason `closed`.
   */
  close(timeoutMs: number): Promise<CloseReport> {
    this.closed = true;
    return this.keepAlive.during(() => this.closeNow(timeoutMs));
  }

  private async closeNow(timeoutMs: number): Promise<CloseReport> {
    const started = Date.now();
    // Whether a spool opened decides the reserve: one configured but unusable (no free slot, a
    // read-only tmpdir) leaves the batcher memory-only, and then sending may use all the time.
    await this.spoolOpening;
    const reserve = this.spool ? Math.min(2000, Math.floor(timeoutMs / 4)) : 0;
    const droppedBefore = this.drops.dropped;
    let timer: NodeJS.Timeout | undefined;
    const deadline = (ms: number) =>
      new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), Math.max(0, ms));
        timer.unref();
      });
    try {
      const flushed = await Promise.race([
        this.flushNow().then(() => "done" as const),
        deadline(timeoutMs - reserve),
      ]);
      clearTimeout(timer);
      if (flushed === "timeout") {
        this.draining = true;
        this.abort.abort(new AuditqError("ERR_AUDITQ_CLOSED", "close() deadline reached"));
        this.pump();
        // Aborted sends come back into memory; with a spool everything then goes to disk.
        await Promise.race([
          this.until(
            () =>
              this.inflight === 0 &&
              this.encodingJobs === 0 &&
              (this.memoryBytes() === 0 || this.spool === undefined),
          ),
          deadline(timeoutMs - (Date.now() - started)),
        ]);
        clearTimeout(timer);
        this.dropInMemory();
      }
    } finally {
      clearTimeout(timer);
      clearTimeout(this.lingerTimer);
      clearTimeout(this.retryTimer);
      this.lingerTimer = undefined;
      this.retryTimer = undefined;
    }
    const spooled = this.spool?.records ?? 0;
    if (this.spool) {
      try {
        await this.spool.close();
      } catch (err) {
        this.drops.report("ERR_AUDITQ_SPOOL", "could not close the spool cleanly", err);
      }
    }
    if (spooled > 0) {
      this.config.logger.warn(
        { records: spooled, dir: this.spool?.dir },
        "auditq: records left in the spool; the next start sends them",
      );
    }
    this.updateGauges();
    return { sent: this.sentRecords, spooled, dropped: this.drops.dropped - droppedBefore };
  }

  private async openSpool(options: SpoolConfig): Promise<void> {
    let opened: SlotOpen | undefined;
    try {
      opened = await openSlot({
        dir: options.dir,
        maxBytes: options.maxBytes,
        logger: this.config.logger,
        onLoss: (records, reason, detail) =>
          this.drops.drop(reason, records, `spooled records lost: ${detail}`),
      });
    } catch (err) {
      if (isRefusal(err)) {
        // Not ours, or not what it should be: an attack or a misconfiguration to hear about.
        this.drops.report(
          "ERR_AUDITQ_SPOOL",
          `${(err as Error).message}; running without a spool`,
          err,
        );
      } else if (options.defaultDir) {
        this.config.logger.warn(
          { err, dir: options.dir },
          "auditq: cannot use the default spool directory; running without a spool (set spool.dir to a writable directory, or spool: false)",
        );
      } else {
        this.drops.report(
          "ERR_AUDITQ_SPOOL",
          `cannot open spool at ${options.dir}; running without`,
          err,
        );
      }
      return;
    }
    if (!opened) {
      this.drops.report(
        "ERR_AUDITQ_SPOOL",
        `all ${SPOOL_SLOTS} spool slots in ${options.dir} are held by live processes; running without a spool`,
        undefined,
      );
      return;
    }
    const { spool, dir, adopted } = opened;
    this.spool = spool;
    if (spool.recovered.refused.length > 0) {
      this.drops.report(
        "ERR_AUDITQ_SPOOL",
        `refused ${spool.recovered.refused.length} unsafe file(s) in the spool (symlink, FIFO, device or another user's); they are not sent: ${spool.recovered.refused.join(", ")}`,
        undefined,
      );
    }
    if (spool.recovered.records > 0) {
      this.config.logger.info(
        { ...spool.recovered, dir, adopted },
        "auditq: found spooled records of an earlier process; sending them",
      );
    }
    this.updateGauges();
    this.pump();
  }

  private fullMessageBuffered(): boolean {
    return (
      this.bufferedBytes >= this.packer.rawBudget() ||
      this.bufferedBytes >= this.config.maxBufferBytes / 4 ||
      this.buffer.length >= this.maxRecordsPerMessage
    );
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private armLinger(): void {
    if (this.lingerTimer !== undefined) return;
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = undefined;
      this.lingerRecords = this.buffer.length;
      this.lingerDue = true;
      this.pump();
    }, this.config.lingerMs);
    this.lingerTimer.unref();
  }

  /** Starts whatever work is due: encoding, spilling to the spool, sending. Never waits. */
  private pump(): void {
    const { maxInflight } = this.config;
    while (
      this.buffer.length > 0 &&
      this.encodingJobs < maxInflight &&
      (this.forced() || this.lingerRecords > 0 || this.fullMessageBuffered())
    ) {
      this.startEncode();
    }
    if (this.ready.length > 0 && this.shouldSpill()) this.spill();
    while (this.canSend()) {
      if (
        this.spool?.hasPending() &&
        this.spoolInflight === 0 &&
        !this.draining &&
        this.roomToReplay()
      ) {
        this.replay(this.spool);
      } else if (this.ready.length > 0 && !this.shouldSpill() && this.readyToSend()) {
        this.sendReady();
      } else {
        break;
      }
    }
    // Everything buffered when the linger timer fired is encoded and sent or in flight now.
    if (this.lingerDue && this.lingerRecords === 0 && this.encodingJobs === 0) {
      this.lingerDue = false;
    }
    // A part-filled call waits for more messages, at most lingerMs.
    if ((this.ready.length > 0 || this.buffer.length > 0) && !this.forced() && !this.lingerDue) {
      this.armLinger();
    }
    if (this.buffer.length === 0 && this.ready.length === 0) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
    }
    this.updateGauges();
    this.wake();
  }

  /**
   * Messages read back from the spool are held in memory while sent: only when a full call's
   * worth still fits in maxBufferBytes (or nothing else is held), so replay never pushes memory
   * past its bound while add() fills it.
   */
  private roomToReplay(): boolean {
    const held = this.memoryBytes();
    return held === 0 || held + this.batchBytesLimit <= this.config.maxBufferBytes;
  }

  /** flush() or close() wants everything out now. */
  private forced(): boolean {
    return this.flushing > 0 || this.closed;
  }

  private startEncode(): void {
    const n = this.packer.groupSize(this.buffer, 0);
    const items = this.buffer.splice(0, n);
    this.lingerRecords = Math.max(0, this.lingerRecords - n);
    let bytes = 0;
    for (const item of items) bytes += item.bytes;
    this.bufferedBytes -= bytes;
    this.encodingBytes += bytes;
    this.encodingJobs++;
    this.packer
      .encode(items)
      .then(
        ({ envelopes, tooLarge }) => {
          for (const env of envelopes) {
            this.ready.push(env);
            this.readyBytes += env.bytes;
          }
          for (const item of tooLarge) {
            this.drops.drop(
              "too_large",
              1,
              `record of ${item.bytes} bytes does not fit in one SQS message even compressed (maxMessageBytes ${this.config.maxMessageBytes})`,
            );
          }
        },
        (err) => this.drops.drop("invalid", items.length, "records could not be encoded", err),
      )
      .finally(() => {
        this.encodingBytes -= bytes;
        this.encodingJobs--;
        this.pump();
      });
  }

  private shouldSpill(): boolean {
    if (!this.spool || Date.now() - this.spoolFailedAt < 5000) return false;
    if (this.draining) return true;
    if (this.memoryBytes() > this.config.maxBufferBytes / 2) return true;
    return (
      this.failingSince !== undefined &&
      Date.now() - this.failingSince >= (this.config.spool?.afterMs ?? 0)
    );
  }

  /** Moves the messages waiting in memory to the spool, in one durable append. */
  private spill(): void {
    const spool = this.spool;
    if (this.spilling || !spool) return;
    const envelopes = this.ready;
    const bytes = this.readyBytes;
    this.ready = [];
    this.readyBytes = 0;
    this.spilling = true;
    this.spillingBytes = bytes;
    spool
      .append(envelopes)
      .then(
        (stored) => {
          if (stored) return;
          this.drops.drop(
            "spool_full",
            envelopes.reduce((n, e) => n + e.records, 0),
            `spool holds ${spool.bytes} bytes (spool.maxBytes ${this.config.spool?.maxBytes})`,
          );
        },
        (err) => {
          // Keep them in memory (still bounded by maxBufferBytes) and leave the disk alone a while.
          this.spoolFailedAt = Date.now();
          this.ready = envelopes.concat(this.ready);
          this.readyBytes += bytes;
          this.drops.report("ERR_AUDITQ_SPOOL", "could not write to the spool", err);
        },
      )
      .finally(() => {
        this.spilling = false;
        this.spillingBytes = 0;
        this.pump();
      });
  }

  /**
   * A full call goes at once. A part-filled one waits for more messages until lingerMs, flush()
   * or close() forces it, and then still for the messages being encoded.
   */
  private readyToSend(): boolean {
    if (
      this.ready.length >= SQS_MAX_BATCH_ENTRIES ||
      batchSize(this.ready, this.batchBytesLimit) < this.ready.length
    ) {
      return true;
    }
    return (
      (this.forced() || (this.lingerDue && this.lingerRecords === 0)) && this.encodingJobs === 0
    );
  }

  private canSend(): boolean {
    return (
      this.retryTimer === undefined &&
      this.inflight < this.config.maxInflight &&
      // While SQS fails, one probe at a time.
      (this.failures === 0 || this.inflight === 0)
    );
  }

  private sendReady(): void {
    const n = batchSize(this.ready, this.batchBytesLimit);
    const batch = this.ready.splice(0, n);
    const bytes = totalBytes(batch);
    this.readyBytes -= bytes;
    this.inflight++;
    this.inflightBytes += bytes;
    void this.send(batch, undefined).finally(() => {
      this.inflight--;
      this.inflightBytes -= bytes;
      this.pump();
    });
  }

  private replay(spool: Spool): void {
    this.inflight++;
    this.spoolInflight++;
    // Reserved before the read, so add() cannot fill that room meanwhile; the real size after.
    let bytes = this.batchBytesLimit;
    this.inflightBytes += bytes;
    spool
      .take(SQS_MAX_BATCH_ENTRIES, this.batchBytesLimit)
      .then((taken) => {
        const read = totalBytes(taken.map((t) => t.envelope));
        this.inflightBytes += read - bytes;
        bytes = read;
        if (taken.length === 0) return;
        return this.send(
          taken.map((t) => t.envelope),
          taken.map((t) => t.entry),
        );
      })
      .catch((err) => {
        this.spoolFailedAt = Date.now();
        this.drops.report("ERR_AUDITQ_SPOOL", "could not read from the spool", err);
      })
      .finally(() => {
        this.inflight--;
        this.spoolInflight--;
        this.inflightBytes -= bytes;
        this.pump();
      });
  }

  /**
   * One SendMessageBatch call. Messages from memory that must be retried go back to the head of
   * `ready`; messages from the spool are released there, to be taken again.
   */
  private async send(batch: EncodedMessage[], entries: SpoolEntry[] | undefined): Promise<void> {
    const { metrics } = this.config;
    const stopTimer = metrics.sendSeconds.startTimer();
    try {
      const outcome = await sendBatchWithin(
        this.config.sqs,
        this.config.queueUrl,
        batch,
        this.config.sendTimeoutMs ?? MIDDLEWARE_OPTIONS.sendTimeoutMs.default,
        this.abort.signal,
        this.config.signingSecret,
      );
      stopTimer();
      metrics.sqsRequests.inc({ operation: "SendMessageBatch", outcome: "ok" });
      metrics.billedRequests.inc(
        { operation: "SendMessageBatch" },
        billedRequests(totalBytes(batch)),
      );
      metrics.messagesPerCall.observe(batch.length);
      const done: SpoolEntry[] = [];
      for (const i of outcome.sent) {
        const env = batch[i] as EncodedMessage;
        this.sentRecords += env.records;
        metrics.recordsSent.inc(env.records);
        metrics.sentBytes.inc(env.bytes);
        metrics.recordsPerMessage.observe(env.records);
        if (entries) done.push(entries[i] as SpoolEntry);
      }
      for (const r of outcome.rejected) {
        const env = batch[r.index] as EncodedMessage;
        if (entries) done.push(entries[r.index] as SpoolEntry);
        this.repack(env, `${r.code} ${r.message}`);
      }
      if (entries && done.length > 0) await this.spool?.done(done);
      if (outcome.retry.length > 0) {
        this.requeue(
          outcome.retry.map((i) => batch[i] as EncodedMessage),
          entries && outcome.retry.map((i) => entries[i] as SpoolEntry),
        );
        this.failed(new Error(`SQS failed ${outcome.retry.length} entries on its side`));
      } else {
        this.succeeded();
      }
    } catch (err) {
      stopTimer();
      metrics.sqsRequests.inc({ operation: "SendMessageBatch", outcome: "error" });
      if ((err as { name?: unknown }).name === "BatchRequestTooLong") {
        this.callTooLong(batch, entries, err);
        return;
      }
      // Whatever the error, the records stay: a non-retryable error (a missing queue, denied
      // access) is an operator's problem that may be fixed while the process runs.
      this.requeue(batch, entries);
      this.failed(err);
    }
  }

  /**
   * SQS refused the call as too long: the queue's limit is below maxMessageBytes. Send smaller
   * calls from now on; a message that is too long alone is dropped, not retried forever.
   */
  private callTooLong(
    batch: EncodedMessage[],
    entries: SpoolEntry[] | undefined,
    err: unknown,
  ): void {
    const bytes = totalBytes(batch);
    if (batch.length > 1) {
      this.batchBytesLimit = Math.min(this.batchBytesLimit, Math.floor(bytes / 2));
      this.drops.report(
        "ERR_AUDITQ_SQS",
        `SQS refused a call of ${bytes} bytes as too long; calls now carry at most ${this.batchBytesLimit} bytes (check maxMessageBytes against the queue's MaximumMessageSize)`,
        err,
      );
      if (entries) this.spool?.release(entries);
      else {
        this.ready = batch.concat(this.ready);
        this.readyBytes += bytes;
      }
      return;
    }
    const env = batch[0] as EncodedMessage;
    if (entries) void this.spool?.done(entries);
    this.repack(
      env,
      `message of ${env.bytes} bytes too long (maxMessageBytes ${this.config.maxMessageBytes} is above the queue's MaximumMessageSize)`,
    );
  }

  /**
   * SQS refused a message as the sender's fault. Its records go out again in two messages, so
   * the innocent ones get through; a record SQS refuses alone is quarantined: dropped with
   * reason `rejected` and handed to onError with its serialized form (`details.record`).
   */
  private repack(env: EncodedMessage, why: string): void {
    this.encodingJobs++;
    this.encodingBytes += env.bytes;
    unpackItems(env)
      .then(async (items) => {
        if (items.length === 1) {
          const item = items[0] as Item;
          this.drops.drop(
            "rejected",
            1,
            `SQS refused a record alone; quarantined: ${why}`,
            undefined,
            {
              record: item.json,
            },
          );
          return;
        }
        const half = Math.ceil(items.length / 2);
        const parts = await Promise.all([
          this.packer.encode(items.slice(0, half)),
          this.packer.encode(items.slice(half)),
        ]);
        const envelopes = parts.flatMap((p) => p.envelopes);
        this.ready = envelopes.concat(this.ready);
        this.readyBytes += totalBytes(envelopes);
        for (const item of parts.flatMap((p) => p.tooLarge)) {
          this.drops.drop(
            "too_large",
            1,
            `record of ${item.bytes} bytes does not fit in a message`,
          );
        }
      })
      .catch((err) =>
        this.drops.drop(
          "rejected",
          env.records,
          `SQS refused a message that cannot be split: ${why}`,
          err,
        ),
      )
      .finally(() => {
        this.encodingBytes -= env.bytes;
        this.encodingJobs--;
        this.pump();
      });
  }

  private requeue(batch: EncodedMessage[], entries: SpoolEntry[] | undefined): void {
    this.config.metrics.retries.inc(batch.reduce((n, e) => n + e.records, 0));
    if (entries) {
      this.spool?.release(entries);
      return;
    }
    this.ready = batch.concat(this.ready);
    this.readyBytes += totalBytes(batch);
  }

  private succeeded(): void {
    if (this.failures > 0) {
      this.config.logger.info(
        { failures: this.failures, downMs: Date.now() - (this.failingSince ?? Date.now()) },
        "auditq: SQS takes messages again",
      );
    }
    this.failures = 0;
    this.failingSince = undefined;
  }

  /** Counts a failed call and pauses sending for a backoff delay (capped, full jitter). */
  private failed(cause: unknown): void {
    this.failures++;
    this.failingSince ??= Date.now();
    const delay = backoffDelay(this.failures, this.config.retry);
    const retryable = isRetryableAwsError(cause);
    if (this.failures === 1) {
      this.drops.report(
        "ERR_AUDITQ_SQS",
        "SQS send failed; retrying with backoff",
        cause,
        retryable,
      );
    }
    this.config.logger.debug({ err: cause, retryInMs: delay, retryable }, "SQS send failed");
    if (this.draining) return;
    if (this.retryTimer === undefined && !this.closed) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.pump();
      }, delay);
      this.retryTimer.unref();
    } else if (this.retryTimer === undefined) {
      // Closing: retry sooner, the deadline bounds it anyway.
      this.retryTimer = setTimeout(
        () => {
          this.retryTimer = undefined;
          this.pump();
        },
        Math.min(delay, 500),
      );
      this.retryTimer.unref();
    }
  }

  /** At the close deadline: whatever could neither be sent nor spooled is dropped. */
  private dropInMemory(): void {
    let records = this.buffer.length;
    for (const env of this.ready) records += env.records;
    this.buffer = [];
    this.bufferedBytes = 0;
    this.ready = [];
    this.readyBytes = 0;
    if (records > 0) {
      this.drops.drop(
        "closed",
        records,
        `close() deadline passed with ${records} records neither sent nor spooled`,
      );
    }
  }

  private updateGauges(): void {
    const { metrics } = this.config;
    metrics.bufferRecords.set(this.buffer.length);
    metrics.bufferBytes.set(this.memoryBytes());
    if (this.spool) {
      metrics.spoolRecords.set(this.spool.records);
      metrics.spoolBytes.set(this.spool.bytes);
    }
  }

  private isIdle(): boolean {
    return (
      this.buffer.length === 0 &&
      this.ready.length === 0 &&
      this.encodingJobs === 0 &&
      this.inflight === 0 &&
      !this.spilling
    );
  }

  private until(done: () => boolean): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ done, resolve }));
  }

  private wake(): void {
    if (this.waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.done()) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }
}

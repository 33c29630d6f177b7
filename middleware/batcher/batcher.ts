// Buffers captured records in process memory and ships them to SQS in packed batch calls,
// through the on-disk spool when SQS fails for long or memory runs short. This file is the
// public face (add, flush, close) and where the parts are put together; send-loop.ts is the
// engine.
import type { Document } from "bson";
import { AuditqError } from "../../shared/util/errors.js";
import { MAX_RECORDS_PER_MESSAGE } from "../../shared/wire/envelope.js";
import { serializeRecord } from "../../shared/wire/record-json.js";
import { utf8Bytes } from "../../shared/wire/sqs-limits.js";
import { MIDDLEWARE_OPTIONS } from "../config/option-table.js";
import { bodyEncodingOf } from "../config/resolve.js";
import { Encoder } from "../message/encoder.js";
import { controlMessage, type EncodedMessage, type Item, Packer } from "../message/packer.js";
import { sqsSafeJson } from "../message/sqs-text.js";
import { ByteQueue } from "./byte-queue.js";
import type { BatcherConfig } from "./config.js";
import { BatchSender } from "./delivery.js";
import { DropReporter } from "./drop-reporter.js";
import { SendFailures } from "./failures.js";
import { KeepAlive } from "./keep-alive.js";
import { SendLoop, type SendLoopParts } from "./send-loop.js";
import { DiskFirst } from "./sources/disk-first.js";
import { SpoolSource } from "./sources/spool.js";
import { ProducerStream } from "./stream.js";
import { StreamFile } from "./stream-file.js";

export type { BatcherConfig } from "./config.js";

/** What `close()` achieved. */
export interface CloseReport {
  /** Records SQS accepted over the batcher's life. */
  sent: number;
  /** Records left in the spool for the next process to send. */
  spooled: number;
  /** Records given up on during close (no spool, or the spool was full). */
  dropped: number;
}

/**
 * The per-process batcher. `add()` never blocks, never throws and never awaits: it serializes
 * one record and appends it to a buffer. Everything else happens on the send path: records are
 * packed into messages (compressed off the event loop), messages into SendMessageBatch calls of
 * at most 10, sent with at most `maxInflight` calls at once, and retried with capped exponential
 * backoff. When SQS has failed for `spool.afterMs`, or memory is half full, encoded messages go
 * to the on-disk spool, which is replayed, oldest first, as soon as SQS takes messages again.
 * With `durability: "disk"`, every record goes to the spool first and is sent from there
 * (disk-first.ts).
 */
export class Batcher {
  private readonly config: BatcherConfig;
  private readonly packer: Packer;
  private readonly drops: DropReporter;
  private readonly loop: SendLoop;
  private readonly spoolOpening: Promise<void>;
  private readonly abort = new AbortController();
  private readonly keepAlive = new KeepAlive();
  /** This process's stream: every record added is numbered in it (docs/proof.md). */
  readonly stream = new ProducerStream();
  /** `durability: "disk"`: the stream kept in the spool, once it is open. */
  private streamFile: StreamFile | undefined;
  /** close() sent everything and queued the end of the stream. */
  private ended = false;

  constructor(config: BatcherConfig) {
    this.config = config;
    this.drops = new DropReporter({ ...config, stream: this.stream });
    const maxRecordsPerMessage = config.maxRecordsPerMessage ?? MAX_RECORDS_PER_MESSAGE;
    this.packer = new Packer({
      maxMessageBytes: config.maxMessageBytes,
      maxBatchBytes: config.maxBatchBytes,
      compression: config.compression ?? bodyEncodingOf(MIDDLEWARE_OPTIONS.compression.default),
      binaryPayload: config.binaryPayload ?? MIDDLEWARE_OPTIONS.binaryPayload.default,
      maxRecordsPerMessage,
      stream: this.stream,
    });
    this.loop = new SendLoop(config, this.parts(maxRecordsPerMessage));
    const spool = this.loop.spool;
    this.spoolOpening = spool
      ? spool.open().then((opened) => {
          if (!opened) return;
          const dir = spool.spool?.dir;
          if (config.durability === "disk" && dir !== undefined) {
            this.streamFile = new StreamFile(dir, this.stream, config.logger);
            this.streamFile.open();
          }
          this.loop.updateGauges();
          this.loop.pump();
        })
      : Promise.resolve();
  }

  /**
   * The send loop's parts, wired to one another and to the loop: a job that ends, a backoff
   * that is over and records captured in disk-first mode all call `pump()`.
   */
  private parts(maxRecordsPerMessage: number): SendLoopParts {
    const { config, drops, packer } = this;
    const pump = () => this.loop.pump();
    const ready = new ByteQueue<EncodedMessage>();
    const failures = new SendFailures({
      retry: config.retry,
      logger: config.logger,
      drops,
      onRetryDue: pump,
    });
    const encoder = new Encoder({
      packer,
      ready,
      drops,
      maxMessageBytes: config.maxMessageBytes,
      onJobEnded: pump,
    });
    const sender = new BatchSender({
      ...config,
      sendTimeoutMs: config.sendTimeoutMs ?? MIDDLEWARE_OPTIONS.sendTimeoutMs.default,
      drops,
      failures,
      encoder,
      abortSignal: this.abort.signal,
      closing: () => ({ closing: this.loop.closed, draining: this.loop.draining }),
    });
    const spool = config.spool
      ? new SpoolSource({ spool: config.spool, logger: config.logger, drops, ready })
      : undefined;
    const disk =
      spool && config.durability === "disk"
        ? new DiskFirst({
            source: spool,
            packer,
            drops,
            ready,
            lingerMs: config.lingerMs,
            onCaptured: pump,
          })
        : undefined;
    return { packer, maxRecordsPerMessage, ready, encoder, sender, failures, spool, disk };
  }

  /** Records waiting in memory, not yet packed. */
  get bufferedRecords(): number {
    return this.loop.buffer.length;
  }

  /** Records in the spool (undefined before it is open, or without one). */
  get spooledRecords(): number | undefined {
    return this.loop.spool?.spool?.records;
  }

  /** Bytes held in memory: unpacked records, messages being encoded, waiting or in flight. */
  memoryBytes(): number {
    return this.loop.memoryBytes();
  }

  /**
   * Queues one record: the one way records enter the batcher. It is numbered first (`n`, which
   * its message's mark names, stored as `seq`; any `seq` it came with gives way), before anything
   * may drop it; one captured after close() gets no number (the stream has ended). Returns false
   * (and reports why) when it was dropped. `toJson` writes relaxed Extended JSON (capture's own).
   */
  add<R extends Document>(record: R, toJson: (record: R) => string = serializeRecord): boolean {
    try {
      if (this.loop.closed) return this.drops.drop("closed", 1, "auditq is closed; record dropped");
      const n = this.stream.next();
      if ((record as Document).seq !== undefined) delete (record as Document).seq;
      const json = sqsSafeJson(toJson(record));
      const item: Item = { json, bytes: utf8Bytes(json), n };
      if (this.packer.surelyTooLarge(item)) {
        return this.drops.dropNumbered(
          "too_large",
          [n],
          `record of ${item.bytes} bytes does not fit in one SQS message (maxMessageBytes ${this.config.maxMessageBytes})`,
        );
      }
      const used = this.loop.memoryBytes();
      if (used + item.bytes > this.config.maxBufferBytes) {
        return this.drops.dropNumbered(
          "buffer_full",
          [n],
          `memory holds ${used} bytes (maxBufferBytes ${this.config.maxBufferBytes})`,
        );
      }
      this.loop.push(item);
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
    const loop = this.loop;
    loop.flushing++;
    try {
      loop.pump();
      await loop.until(() => loop.isIdle() && loop.spool?.spool?.hasPending() !== true);
    } finally {
      loop.flushing--;
    }
  }

  /**
   * Stops taking records; sends what is in memory and in the spool until `timeoutMs`. Shortly
   * before the deadline, whatever is still in memory goes to the spool (left for the next start)
   * or, without a spool, is dropped with reason `closed`.
   */
  close(timeoutMs: number): Promise<CloseReport> {
    this.loop.closed = true;
    return this.keepAlive.during(() => this.closeNow(timeoutMs));
  }

  private async closeNow(timeoutMs: number): Promise<CloseReport> {
    const closeBegan = Date.now();
    const loop = this.loop;
    // Whether a spool opened decides the reserve: one configured but unusable (no free slot, a
    // read-only tmpdir) leaves the batcher memory-only, and then sending may use all the time.
    await this.spoolOpening;
    const spool = loop.spool?.spool;
    const reserve = spool ? Math.min(2000, Math.floor(timeoutMs / 4)) : 0;
    const droppedBefore = this.drops.dropped;
    let timer: NodeJS.Timeout | undefined;
    const deadline = (ms: number) =>
      new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), Math.max(0, ms));
        timer.unref();
      });
    try {
      const flushed = await Promise.race([
        this.flushNow().then(() => this.endStream()),
        deadline(timeoutMs - reserve),
      ]);
      clearTimeout(timer);
      if (flushed === "timeout") {
        loop.draining = true;
        this.abort.abort(new AuditqError("ERR_AUDITQ_CLOSED", "close() deadline reached"));
        loop.pump();
        // Aborted sends come back into memory; with a spool everything then goes to disk.
        await Promise.race([
          loop.until(
            () =>
              loop.sender.inflight.count === 0 &&
              loop.encoder.jobs.count === 0 &&
              (loop.memoryBytes() === 0 || spool === undefined),
          ),
          deadline(timeoutMs - (Date.now() - closeBegan)),
        ]);
        clearTimeout(timer);
        this.dropInMemory();
      }
    } finally {
      clearTimeout(timer);
      loop.stopTimers();
    }
    const spooled = spool?.records ?? 0;
    this.streamFile?.close(this.ended && spooled === 0);
    await loop.spool?.close();
    if (spooled > 0) {
      this.config.logger.warn(
        { records: spooled, dir: spool?.dir },
        "auditq: records left in the spool; the next start sends them",
      );
    }
    loop.updateGauges();
    return { sent: loop.sender.sentRecords, spooled, dropped: this.drops.dropped - droppedBefore };
  }

  /**
   * Everything sent: the end of the stream goes last, as a control message (through the spool
   * with `durability: "disk"`), and close() waits for it like for the records. A stream that
   * numbered no record has nothing to end: no consumer has heard of it, and an instance that
   * captured nothing closes at once instead of waiting on a queue it never used.
   */
  private async endStream(): Promise<"done"> {
    this.ended = true;
    if (this.stream.hwm === 0) return "done";
    this.loop.ready.push(controlMessage(this.stream.mark(true)));
    await this.flushNow();
    return "done";
  }

  /** At the close deadline: whatever could neither be sent nor spooled is dropped. */
  private dropInMemory(): void {
    const ns: (number | undefined)[] = this.loop.buffer.takeAll().map((item) => item.n);
    for (const env of this.loop.ready.takeAll()) {
      if (env.seq) ns.push(...env.seq);
      else for (let i = 0; i < env.records; i++) ns.push(undefined);
    }
    if (ns.length > 0) {
      this.drops.dropNumbered(
        "closed",
        ns,
        `close() deadline passed with ${ns.length} records neither sent nor spooled`,
      );
    }
  }
}

// The batcher's engine: records wait in a byte-bounded buffer, are encoded into messages, and
// the messages are sent from memory or the spool, or spilled to the spool. `pump()` begins
// whatever work is due and never waits; every job calls it again when it ends.
import { SQS_MAX_BATCH_ENTRIES } from "../../shared/wire/sqs-limits.js";
import type { Encoder } from "../message/encoder.js";
import {
  batchSize,
  type EncodedMessage,
  type Item,
  type Packer,
  totalBytes,
} from "../message/packer.js";
import { ByteQueue } from "./byte-queue.js";
import type { BatcherConfig } from "./config.js";
import type { BatchSender } from "./delivery.js";
import type { SendFailures } from "./failures.js";
import { Linger } from "./linger.js";
import type { DiskFirst } from "./sources/disk-first.js";
import { MemorySource } from "./sources/memory.js";
import type { OutgoingBatch } from "./sources/source.js";
import type { SpoolSource } from "./sources/spool.js";
import { Waiters } from "./waiters.js";

/** What the loop drives, built and wired to it by the Batcher. */
export interface SendLoopParts {
  packer: Packer;
  maxRecordsPerMessage: number;
  /** Encoded messages waiting to be sent, shared with the encoder and the spool's sources. */
  ready: ByteQueue<EncodedMessage>;
  encoder: Encoder;
  sender: BatchSender;
  failures: SendFailures;
  spool: SpoolSource | undefined;
  disk: DiskFirst | undefined;
}

export class SendLoop {
  private readonly config: BatcherConfig;
  private readonly packer: Packer;
  private readonly maxRecordsPerMessage: number;
  /** Records serialized by add(), not yet encoded. */
  readonly buffer = new ByteQueue<Item>();
  /** Encoded messages waiting to be sent: new ones at the tail, retries at the head. */
  readonly ready: ByteQueue<EncodedMessage>;
  readonly encoder: Encoder;
  readonly sender: BatchSender;
  readonly failures: SendFailures;
  readonly spool: SpoolSource | undefined;
  private readonly memory: MemorySource;
  /** flush() calls waiting. */
  flushing = 0;
  closed = false;
  /** Close reached its deadline: everything in memory goes to the spool now. */
  draining = false;
  private readonly linger: Linger;
  /** `durability: "disk"`: every record goes through the spool. */
  private readonly disk: DiskFirst | undefined;
  private pumpScheduled = false;
  private readonly waiters = new Waiters();

  constructor(config: BatcherConfig, parts: SendLoopParts) {
    this.config = config;
    this.packer = parts.packer;
    this.maxRecordsPerMessage = parts.maxRecordsPerMessage;
    this.ready = parts.ready;
    this.encoder = parts.encoder;
    this.sender = parts.sender;
    this.failures = parts.failures;
    this.spool = parts.spool;
    this.disk = parts.disk;
    this.linger = new Linger(
      config.lingerMs,
      () => this.buffer.length,
      () => this.pump(),
    );
    this.memory = new MemorySource(this.ready);
  }

  /** Bytes held in memory: unpacked records, messages being encoded, waiting or in flight. */
  memoryBytes(): number {
    return (
      (this.disk?.bytes ?? 0) +
      this.buffer.bytes +
      this.encoder.jobs.bytes +
      this.ready.bytes +
      this.sender.inflight.bytes +
      (this.spool?.spilling.bytes ?? 0)
    );
  }

  /** Queues one serialized record (already checked against the memory bound). */
  push(item: Item): void {
    if (this.disk) {
      this.disk.push(item);
      return;
    }
    this.buffer.push(item);
    if (this.fullMessageBuffered()) this.schedulePump();
    else this.linger.arm();
  }

  /** Begins whatever work is due: encoding, spilling to the spool, sending. Never waits. */
  pump(): void {
    const { maxInflight } = this.config;
    if (this.disk && !this.disk.idle) this.log(this.disk);
    while (
      this.buffer.length > 0 &&
      this.encoder.jobs.count < maxInflight &&
      (this.forced() || this.linger.recordsOwed > 0 || this.fullMessageBuffered())
    ) {
      this.encodeNext();
    }
    if (this.ready.length > 0 && this.shouldSpill()) this.spill();
    while (this.canSend()) {
      const spool = this.spool;
      if (spool?.canReplay() && this.roomToReplay() && (this.disk?.due(this.forced()) ?? true)) {
        const limit = this.sender.maxCallBytes;
        const next = this.disk ? this.disk.take(limit) : spool.take(limit);
        this.dispatch(limit, next, () => spool.replayEnded());
      } else if (
        this.ready.length > 0 &&
        !this.shouldSpill() &&
        !(this.disk && this.spool?.opening) &&
        this.readyToSend()
      ) {
        const batch = this.memory.take(this.sender.maxCallBytes);
        this.dispatch(totalBytes(batch.messages), Promise.resolve(batch));
      } else {
        break;
      }
    }
    // Everything buffered when the linger timer fired is encoded and sent or in flight now.
    this.linger.clearDue(this.encoder.jobs.count);
    // A part-filled call waits for more messages, at most lingerMs.
    if (
      (this.ready.length > 0 || this.buffer.length > 0) &&
      !this.forced() &&
      !this.linger.pending
    ) {
      this.linger.arm();
    }
    if (this.buffer.length === 0 && this.ready.length === 0) this.linger.stop();
    this.updateGauges();
    this.waiters.wake();
  }

  /** Nothing in memory and no job running (the spool may still hold entries). */
  isIdle(): boolean {
    return (
      this.disk?.idle !== false &&
      this.buffer.length === 0 &&
      this.ready.length === 0 &&
      this.encoder.jobs.count === 0 &&
      this.sender.inflight.count === 0 &&
      (this.spool?.spilling.count ?? 0) === 0
    );
  }

  /** Resolves once `done()` holds, checked after every pump. */
  until(done: () => boolean): Promise<void> {
    return this.waiters.until(done);
  }

  /** Stops the linger and backoff timers (close is over). */
  stopTimers(): void {
    this.linger.stop();
    this.failures.stop();
    this.disk?.stop();
  }

  updateGauges(): void {
    const { metrics } = this.config;
    metrics.bufferRecords.set(this.buffer.length);
    metrics.bufferBytes.set(this.memoryBytes());
    const spool = this.spool?.spool;
    if (spool) {
      metrics.spoolRecords.set(spool.records);
      metrics.spoolBytes.set(spool.bytes);
    }
  }

  /** One call from a source (see BatchSender.sendFrom); `ended` runs once it is over. */
  private dispatch(
    reserve: number,
    next: Promise<OutgoingBatch | undefined>,
    ended?: () => void,
  ): void {
    void this.sender.sendFrom(reserve, next).finally(() => {
      ended?.();
      this.pump();
    });
  }

  /**
   * Disk-first: writes the records captured since the last call to the spool, at once (see
   * DiskFirst.log). Without a usable spool they take the memory path meanwhile.
   */
  private log(disk: DiskFirst): void {
    const failed = disk.log();
    for (const item of failed) this.buffer.push(item);
    if (failed.length > 0) this.linger.arm();
  }

  /**
   * Nothing encoded, waiting or in flight: records trickle in. The buffer then waits for a
   * whole message's worth (or lingerMs) instead of an eighth of a call, so what lingerMs sends
   * is one message, which the sidecar receives in one call, not several eighths received one
   * by one. Under load there is always a message on its way, and eighths fill calls best.
   */
  private trickling(): boolean {
    return (
      this.ready.length === 0 && this.sender.inflight.count === 0 && this.encoder.jobs.count === 0
    );
  }

  private fullMessageBuffered(): boolean {
    return (
      this.buffer.bytes >= this.packer.rawBudget(this.trickling()) ||
      this.buffer.bytes >= this.config.maxBufferBytes / 4 ||
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

  /**
   * Messages read back from the spool are held in memory while sent: only when a full call's
   * worth still fits in maxBufferBytes (or nothing else is held), so replay never pushes memory
   * past its bound while add() fills it.
   */
  private roomToReplay(): boolean {
    const used = this.memoryBytes();
    return used === 0 || used + this.sender.maxCallBytes <= this.config.maxBufferBytes;
  }

  /** flush() or close() wants everything out now. */
  private forced(): boolean {
    return this.flushing > 0 || this.closed;
  }

  private encodeNext(): void {
    // Records the linger timer (or flush/close) sends before a message's worth gathered, or
    // that trickled in: one message for all of them, not several eighths of a call.
    const whole = this.trickling() || !this.fullMessageBuffered();
    const n = this.packer.groupSize(this.buffer.view, 0, whole);
    this.linger.encoded(n);
    this.encoder.encode(this.buffer.takeFront(n));
  }

  private shouldSpill(): boolean {
    if (!this.spool?.usable()) return false;
    if (this.draining || this.disk) return true;
    if (this.memoryBytes() > this.config.maxBufferBytes / 2) return true;
    const failingFor = this.failures.failingForMs();
    return failingFor !== undefined && failingFor >= (this.config.spool?.afterMs ?? 0);
  }

  /** Moves the messages waiting in memory to the spool, in one durable append. */
  private spill(): void {
    const spool = this.spool;
    if (!spool || spool.spilling.count > 0) return;
    void spool.spill(this.ready.takeAll()).finally(() => this.pump());
  }

  /**
   * A full call goes at once. A part-filled one waits for more messages until lingerMs, flush()
   * or close() forces it, and then still for the messages being encoded.
   */
  private readyToSend(): boolean {
    const full =
      this.ready.length >= SQS_MAX_BATCH_ENTRIES ||
      batchSize(this.ready.view, this.sender.maxCallBytes) < this.ready.length;
    return full || ((this.forced() || this.linger.sendDue) && this.encoder.jobs.count === 0);
  }

  /** Never past the close deadline: a call is aborted at once there, and would go again, forever. */
  private canSend(): boolean {
    return (
      !this.draining &&
      !this.failures.pausing &&
      this.sender.inflight.count < this.config.maxInflight &&
      // While SQS fails, one probe at a time.
      (!this.failures.failing || this.sender.inflight.count === 0)
    );
  }
}

// The batcher's side of the spool: opening it, spilling messages from memory into it, and
// taking them back out as batches to send (ack marks them done, retry puts them back).
import type { Logger } from "../../../shared/util/logger.js";
import { SQS_MAX_BATCH_ENTRIES } from "../../../shared/wire/sqs-limits.js";
import type { EncodedMessage } from "../../message/packer.js";
import { isRefusal } from "../../spool/files.js";
import { openSlot, type SlotOpen, SPOOL_SLOTS } from "../../spool/slots.js";
import type { Spool, TakenEntry } from "../../spool/spool.js";
import type { ByteQueue } from "../byte-queue.js";
import { ByteTally } from "../byte-queue.js";
import type { SpoolConfig } from "../config.js";
import type { DropReporter } from "../drop-reporter.js";
import { type OutgoingBatch, pick } from "./source.js";

/** After a spool write or read fails, the batcher leaves the disk alone this long. */
const SPOOL_REST_MS = 5000;

export interface SpoolSourceConfig {
  spool: SpoolConfig;
  logger: Logger;
  drops: DropReporter;
  /** Where spilled messages go back to when the spool cannot take them. */
  ready: ByteQueue<EncodedMessage>;
}

export class SpoolSource {
  private readonly config: SpoolSourceConfig;
  private opened: Spool | undefined;
  private failedAt = Number.NEGATIVE_INFINITY;
  private replaying = false;
  private state: "opening" | "open" | "unusable" = "opening";
  /** The append in progress (one at a time), with the bytes it holds in memory. */
  readonly spilling = new ByteTally();

  constructor(config: SpoolSourceConfig) {
    this.config = config;
  }

  /** The spool, once open (undefined before, or when it could not be used). */
  get spool(): Spool | undefined {
    return this.opened;
  }

  /** Still opening: a disk-first batcher holds records until it knows whether it has a spool. */
  get opening(): boolean {
    return this.state === "opening";
  }

  /** Open, and not resting after a failed write or read. */
  usable(): boolean {
    return this.opened !== undefined && Date.now() - this.failedAt >= SPOOL_REST_MS;
  }

  /** Entries wait in the spool and none is being sent: one replay at a time keeps their order. */
  canReplay(): boolean {
    return this.opened?.hasPending() === true && !this.replaying;
  }

  /**
   * Opens this process's slot. Resolves to false when the spool cannot be used: that is
   * reported (or, for the default directory, logged) and the batcher runs without.
   */
  async open(): Promise<boolean> {
    const opened = await this.openSlot();
    this.state = opened ? "open" : "unusable";
    return opened;
  }

  private async openSlot(): Promise<boolean> {
    const options = this.config.spool;
    const { drops, logger } = this.config;
    let opened: SlotOpen | undefined;
    try {
      opened = await openSlot({
        dir: options.dir,
        top: options.top,
        maxBytes: options.maxBytes,
        logger,
        onLoss: (records, reason, detail) =>
          drops.drop(reason, records, `spooled records lost: ${detail}`),
      });
    } catch (err) {
      if (isRefusal(err)) {
        // Not ours, or not what it should be: an attack or a misconfiguration to hear about.
        drops.report("ERR_AUDITQ_SPOOL", `${(err as Error).message}; running without a spool`, err);
      } else if (options.defaultDir) {
        logger.warn(
          { err, dir: options.dir },
          "auditq: cannot use the default spool directory; running without a spool (set spool.dir to a writable directory, or spool: false)",
        );
      } else {
        drops.report(
          "ERR_AUDITQ_SPOOL",
          `cannot open spool at ${options.dir}; running without`,
          err,
        );
      }
      return false;
    }
    if (!opened) {
      drops.report(
        "ERR_AUDITQ_SPOOL",
        `all ${SPOOL_SLOTS} spool slots in ${options.dir} are held by live processes; running without a spool`,
        undefined,
      );
      return false;
    }
    const { spool, dir, adopted } = opened;
    this.opened = spool;
    if (spool.recovered.refused.length > 0) {
      drops.report(
        "ERR_AUDITQ_SPOOL",
        `refused ${spool.recovered.refused.length} unsafe file(s) in the spool (symlink, FIFO, device or another user's); they are not sent: ${spool.recovered.refused.join(", ")}`,
        undefined,
      );
    }
    if (spool.recovered.records > 0) {
      logger.info(
        { ...spool.recovered, dir, adopted },
        "auditq: found spooled records of an earlier process; sending them",
      );
    }
    return true;
  }

  /**
   * Moves messages to the spool in one durable append (one at a time). Resolves once they are
   * stored, dropped as `spool_full`, or put back into memory when the write failed.
   */
  async spill(messages: EncodedMessage[]): Promise<void> {
    const spool = this.opened;
    if (!spool) {
      this.config.ready.pushFront(messages);
      return;
    }
    let bytes = 0;
    for (const m of messages) bytes += m.bytes;
    const job = this.spilling.begin(bytes);
    try {
      const stored = await spool.append(messages);
      if (!stored) {
        this.config.drops.dropNumbered(
          "spool_full",
          messages.flatMap((e): (number | undefined)[] =>
            e.seq ? [...e.seq] : new Array<undefined>(e.records).fill(undefined),
          ),
          `spool holds ${spool.bytes} bytes (spool.maxBytes ${this.config.spool.maxBytes})`,
        );
      }
    } catch (err) {
      // Keep them in memory (still bounded by maxBufferBytes) and leave the disk alone a while.
      this.config.ready.pushFront(messages);
      this.rest("could not write to the spool", err);
    } finally {
      job.end();
    }
  }

  /**
   * Takes the oldest spooled messages, at most one call's worth, as a batch. Undefined when
   * there were none or the read failed (reported; the disk then rests). Call `replayEnded()`
   * once the batch's call is over.
   */
  async take(maxCallBytes: number): Promise<OutgoingBatch | undefined> {
    const spool = this.opened;
    if (!spool) return undefined;
    this.replaying = true;
    try {
      const taken = await spool.take(SQS_MAX_BATCH_ENTRIES, maxCallBytes);
      if (taken.length === 0) return undefined;
      return this.batchOf(spool, taken);
    } catch (err) {
      this.rest("could not read from the spool", err);
      return undefined;
    }
  }

  /** A replay begins: one at a time keeps the spool's order. */
  replayBegan(): void {
    this.replaying = true;
  }

  /** A write or read failed: reported, and the disk rests a while (memory is used meanwhile). */
  rest(message: string, err: unknown): void {
    this.failedAt = Date.now();
    this.config.drops.report("ERR_AUDITQ_SPOOL", message, err);
  }

  replayEnded(): void {
    this.replaying = false;
  }

  /** Spooled messages sent as they are: each entry is done when its message is. */
  batchOf(spool: Spool, taken: readonly TakenEntry[]): OutgoingBatch {
    const entries = taken.map((t) => t.entry);
    const forget = (indices: readonly number[]) =>
      spool.done(pick(entries, indices)).catch((err: unknown) => {
        this.config.drops.report("ERR_AUDITQ_SPOOL", "could not delete sent spool segments", err);
      });
    return {
      messages: taken.map((t) => t.envelope),
      ack: forget,
      reject: forget,
      retry: (indices) => spool.putBack(pick(entries, indices)),
    };
  }

  /** Closes the spool; what is in it stays for the next start. */
  async close(): Promise<void> {
    if (!this.opened) return;
    try {
      await this.opened.close();
    } catch (err) {
      this.config.drops.report("ERR_AUDITQ_SPOOL", "could not close the spool cleanly", err);
    }
  }
}

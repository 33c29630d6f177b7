// `durability: "disk"`: every record is written to the spool at the end of the turn of the
// event loop that captured it, and sending reads from the spool: records are packed
// (compressed) from the spool's log as they are sent. A different message source, not a
// different batcher.

import {
  batchSize,
  type EncodedMessage,
  type Item,
  type Packer,
  plainMessage,
} from "../../message/packer.js";
import { unpackItems } from "../../message/unpack.js";
import type { Spool, SpoolEntry, TakenEntry } from "../../spool/spool.js";
import { ByteQueue } from "../byte-queue.js";
import type { DropReporter } from "../drop-reporter.js";
import type { OutgoingBatch } from "./source.js";
import type { SpoolSource } from "./spool.js";

/** Log entries (one per turn of the event loop, or less) taken for one call at most. */
const MAX_LOG_ENTRIES_PER_CALL = 10_000;

export interface DiskFirstConfig {
  source: SpoolSource;
  packer: Packer;
  drops: DropReporter;
  /** A part-filled call waits this long after the last one for more records (lingerMs). */
  lingerMs: number;
  /** Where messages go that cannot be sent from the spool (see takeRepacked). */
  ready: ByteQueue<EncodedMessage>;
  /** Runs once per turn of the event loop in which records were captured. */
  onCaptured: () => void;
}

export class DiskFirst {
  private readonly config: DiskFirstConfig;
  /** Records captured this turn of the event loop, written to the spool at its end. */
  private readonly unlogged = new ByteQueue<Item>();
  private scheduled = false;
  private lastTakeAt = Number.NEGATIVE_INFINITY;
  private lingerTimer: NodeJS.Timeout | undefined;

  constructor(config: DiskFirstConfig) {
    this.config = config;
  }

  /** Bytes of records not yet written. */
  get bytes(): number {
    return this.unlogged.bytes;
  }

  get idle(): boolean {
    return this.unlogged.length === 0;
  }

  push(item: Item): void {
    this.unlogged.push(item);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.config.onCaptured();
    });
  }

  /**
   * Whether a call from the spool is due: a message's worth waits, or flush()/close() wants it
   * out (`forced`), or lingerMs passed since the last call, as in memory mode; else the next
   * check is scheduled for when it will be.
   */
  due(forced: boolean): boolean {
    const { source, packer, lingerMs } = this.config;
    const spool = source.spool;
    if (!spool) return false;
    if (forced || spool.pendingBytes >= packer.rawBudget(true)) return true;
    const wait = this.lastTakeAt + lingerMs - Date.now();
    if (wait <= 0) return true;
    this.lingerTimer ??= setTimeout(() => {
      this.lingerTimer = undefined;
      this.config.onCaptured();
    }, wait);
    // On disk already: an idle app may exit, the next start sends them.
    this.lingerTimer.unref();
    return false;
  }

  stop(): void {
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
  }

  /**
   * Writes the records captured so far to the spool, uncompressed, one message per packing
   * group (see Spool.appendNow). Returns the records it could not write (no usable spool, or
   * the write failed: reported, and the disk rests), for the memory path; records beyond
   * spool.maxBytes are dropped as `spool_full`. Nothing while the spool is still opening.
   */
  log(): Item[] {
    const { source, packer, drops } = this.config;
    const spool = source.spool;
    if (source.opening || this.unlogged.length === 0) return [];
    const items = this.unlogged.takeAll();
    if (!spool || !source.usable()) return items;
    const messages: EncodedMessage[] = [];
    for (let i = 0; i < items.length; ) {
      const n = Math.max(1, packer.groupSize(items, i));
      messages.push(plainMessage(items.slice(i, i + n), packer.stream));
      i += n;
    }
    try {
      if (!spool.appendNow(messages)) {
        drops.dropNumbered(
          "spool_full",
          items.map((i) => i.n),
          `spool holds ${spool.bytes} bytes (spool.maxBytes reached)`,
        );
      }
      return [];
    } catch (err) {
      source.rest("could not write to the spool", err);
      return items;
    }
  }

  /**
   * Takes the oldest logged records, about one message's worth, and packs them (compressed)
   * for one call. Their entries are done once every message is sent or refused (the records
   * of a refused message are re-packed in memory); a retry puts them all back, so the ones
   * already sent go again (the sidecar's dedup by `_id` absorbs that). Messages spooled
   * already packed (spilled, or by a memory-mode process) go as they are.
   */
  async take(maxCallBytes: number): Promise<OutgoingBatch | undefined> {
    const { source, packer, drops } = this.config;
    const spool = source.spool;
    if (!spool) return undefined;
    source.replayBegan();
    this.lastTakeAt = Date.now();
    let toPutBack: SpoolEntry[] = [];
    try {
      // A whole message's worth of raw records: about a call's worth once compressed.
      const taken = await spool.take(MAX_LOG_ENTRIES_PER_CALL, packer.rawBudget(true));
      toPutBack = taken.map((t) => t.entry);
      const first = taken[0];
      if (!first) return undefined;
      // Logged records are re-packed; what was spooled packed (control messages included) goes as it is.
      const isLog = (t: TakenEntry) => t.envelope.encoding === "identity" && t.envelope.records > 0;
      const plain = isLog(first);
      let run = taken.findIndex((t) => isLog(t) !== plain);
      if (run < 0) run = taken.length;
      if (!plain) {
        const envelopes = taken.map((t) => t.envelope);
        run = Math.min(run, batchSize(envelopes.slice(0, run), maxCallBytes));
      }
      spool.putBack(toPutBack.slice(run));
      const group = taken.slice(0, run);
      toPutBack = toPutBack.slice(0, run);
      if (!plain) {
        toPutBack = [];
        return source.batchOf(spool, group);
      }
      const stream = packer.stream?.id;
      const items = (await Promise.all(group.map((t) => unpackItems(t.envelope, stream)))).flat();
      const { envelopes, tooLarge } = await this.pack(items);
      for (const item of tooLarge) {
        drops.dropNumbered(
          "too_large",
          [item.n],
          `record of ${item.bytes} bytes does not fit in a message`,
        );
      }
      const entries = toPutBack;
      toPutBack = [];
      const fits = batchSize(envelopes, maxCallBytes);
      // Only when one group packs into more than a call (a misjudged ratio): the rest is sent
      // from memory.
      if (fits < envelopes.length) this.config.ready.pushFront(envelopes.slice(fits));
      if (fits === 0) {
        await spool.done(entries);
        return undefined;
      }
      return this.repackedBatchOf(spool, entries, envelopes.slice(0, fits));
    } catch (err) {
      spool.putBack(toPutBack);
      source.rest("could not read from the spool", err);
      return undefined;
    }
  }

  /**
   * Less than a call's worth goes as one message (what the sidecar receives in one call, as
   * what lingerMs sends in memory mode); a call's worth as messages of an eighth of a call
   * each, which fill the call best (see Packer.rawBudget).
   */
  private async pack(
    items: readonly Item[],
  ): Promise<{ envelopes: EncodedMessage[]; tooLarge: Item[] }> {
    const { packer } = this.config;
    let raw = 0;
    for (const item of items) raw += item.bytes;
    const whole = raw < packer.rawBudget(true);
    const groups: Item[][] = [];
    for (let i = 0; i < items.length; ) {
      const n = packer.groupSize(items, i, whole);
      groups.push(items.slice(i, i + n));
      i += n;
    }
    const parts = await Promise.all(groups.map((g) => packer.encode(g)));
    return {
      envelopes: parts.flatMap((p) => p.envelopes),
      tooLarge: parts.flatMap((p) => p.tooLarge),
    };
  }

  /** One call of messages packed from many entries: the entries are done when all are. */
  private repackedBatchOf(
    spool: Spool,
    entries: SpoolEntry[],
    messages: EncodedMessage[],
  ): OutgoingBatch {
    let open = messages.length;
    let retried = false;
    const messagesDone = (indices: readonly number[]) => {
      open -= indices.length;
      if (open > 0 || retried) return Promise.resolve();
      return spool.done(entries).catch((err: unknown) => {
        this.config.drops.report("ERR_AUDITQ_SPOOL", "could not delete sent spool segments", err);
      });
    };
    return {
      messages,
      ack: messagesDone,
      reject: messagesDone,
      retry: () => {
        retried = true;
        spool.putBack(entries);
      },
    };
  }
}

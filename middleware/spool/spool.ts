// The crash-safe on-disk spool: encoded messages in append-only segment files with checksums
// (format in frames.ts). A process only ever appends to a segment it created; on open it
// starts a new one, so a torn frame left by `kill -9` is only ever at the tail of an old
// segment. A scan skips torn or corrupt frames and resynchronises on the next valid one.
import { readdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { EncodedMessage } from "../message/packer.js";
import { privateChain } from "./dir-chain.js";
import { isRefusal } from "./files.js";
import { frame } from "./frames.js";
import { acquireLock, markUnlocked } from "./lock.js";
import { EntryReader, pickPending, type TakenEntry } from "./reader.js";
import {
  type RecoveryReport,
  SEGMENT_RE,
  type Segment,
  type SpoolEntry,
  type SpoolOpenOptions,
  scanSegment,
} from "./segments.js";
import { SegmentWriter } from "./writer.js";

export type { TakenEntry } from "./reader.js";
export type { RecoveryReport, SpoolEntry, SpoolOpenOptions } from "./segments.js";

/**
 * Appends are durable when they resolve: the frames are written in full and `fdatasync`ed (and
 * the directory fsynced when a segment is created); `appendNow` writes at once and leaves the
 * sync to a group commit (writer.ts). Progress through a segment is kept in memory
 * only; a segment file is deleted once every entry in it was sent, so a crash re-sends at most
 * the sent part of the oldest segments, which the sidecar's dedup by `_id` absorbs.
 */
export class Spool {
  private readonly options: Required<SpoolOpenOptions>;
  private readonly segments: Segment[] = [];
  private writer: SegmentWriter;
  private lockPath: string;
  private pendingRecords = 0;
  /** Entries in state "pending", and the size of their messages. */
  private pendingEntries = 0;
  private waitingBytes = 0;
  private totalBytes = 0;
  /** Serializes appends, reads and deletions. */
  private chain: Promise<unknown> = Promise.resolve();
  readonly recovered: RecoveryReport;

  private constructor(options: Required<SpoolOpenOptions>, recovered: RecoveryReport) {
    this.options = options;
    this.lockPath = join(options.dir, "LOCK");
    this.recovered = recovered;
    this.writer = this.newWriter(0);
  }

  private newWriter(nextSeq: number): SegmentWriter {
    return new SegmentWriter({
      dir: this.options.dir,
      logger: this.options.logger,
      nextSeq,
      created: (segment) => this.segments.push(segment),
    });
  }

  /** Opens (creating) the spool directory, acquires its lock and scans what a previous process left. */
  static async open(options: SpoolOpenOptions): Promise<Spool> {
    const full: Required<SpoolOpenOptions> = {
      segmentBytes: 1024 * 1024,
      onLoss: () => undefined,
      ...options,
    };
    await privateChain(full.dir);
    acquireLock(join(full.dir, "LOCK"));
    const recovered: RecoveryReport = {
      segments: 0,
      entries: 0,
      records: 0,
      corruptBytes: 0,
      corruptRecords: 0,
      refused: [],
    };
    const spool = new Spool(full, recovered);
    const names = (await readdir(full.dir)).filter((n) => SEGMENT_RE.test(n)).sort();
    let nextSeq = 0;
    for (const name of names) {
      const seq = Number(SEGMENT_RE.exec(name)?.[1]);
      nextSeq = Math.max(nextSeq, seq + 1);
      await spool.recover(seq, join(full.dir, name));
    }
    spool.writer = spool.newWriter(nextSeq);
    return spool;
  }

  /** Scans one segment a previous process left; unsafe files are refused and left alone. */
  private async recover(seq: number, path: string): Promise<void> {
    const segment = await scanSegment(seq, path, this.options, this.recovered);
    if (!segment) return;
    this.segments.push(segment);
    this.totalBytes += segment.size;
    this.pendingEntries += segment.entries.length;
    for (const e of segment.entries) {
      this.pendingRecords += e.records;
      this.waitingBytes += e.bytes;
    }
  }

  /** The directory of the segment files (the slot, when opened through `openSlot`). */
  get dir(): string {
    return this.options.dir;
  }

  /** Records waiting in the spool (pending or being sent). */
  get records(): number {
    return this.pendingRecords;
  }

  /** Bytes of segment files on disk. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** Message bytes of the entries waiting to be taken. */
  get pendingBytes(): number {
    return this.waitingBytes;
  }

  /** Whether any entry waits to be taken. */
  hasPending(): boolean {
    return this.pendingEntries > 0;
  }

  /**
   * Appends messages durably: resolves once they are written and committed (`fdatasync`).
   * Resolves to false, writing nothing, when they would take the spool past `maxBytes`.
   */
  append(envelopes: readonly EncodedMessage[]): Promise<boolean> {
    return this.serial(async () => {
      if (!this.appendNow(envelopes)) return false;
      await this.writer.commit();
      return true;
    });
  }

  /**
   * Appends messages now, with synchronous writes: when this returns true they are in the page
   * cache (a `kill -9` cannot lose them) and a group commit makes them durable within
   * DISK_COMMIT_INTERVAL_MS. False, writing nothing, when they would take the spool past
   * `maxBytes`. Throws when the write failed (nothing of it is kept).
   */
  appendNow(envelopes: readonly EncodedMessage[]): boolean {
    const frames = envelopes.map(frame);
    const size = frames.reduce((n, f) => n + f.length, 0);
    if (this.totalBytes + size > this.options.maxBytes) return false;
    const { segment, offset: from } = this.writer.writeNow(Buffer.concat(frames));
    let offset = from;
    for (const [i, f] of frames.entries()) {
      const env = envelopes[i] as EncodedMessage;
      segment.entries.push({
        segment,
        offset,
        length: f.length,
        records: env.records,
        bytes: env.bytes,
        state: "pending",
      });
      offset += f.length;
      segment.live++;
      this.pendingEntries++;
      this.pendingRecords += env.records;
      this.waitingBytes += env.bytes;
    }
    segment.size += size;
    this.totalBytes += size;
    if (segment.size >= this.options.segmentBytes) this.writer.retire();
    this.writer.commitSoon();
    return true;
  }

  /**
   * Takes the oldest pending entries, at most `maxEntries` and `maxBytes` of message size in
   * total (at least one), and reads their messages back, each checked again (length and CRC).
   * An entry that no longer checks out is given up and reported through `onLoss`. Mark the
   * others `done()` or `putBack()` them.
   */
  take(maxEntries: number, maxBytes: number): Promise<TakenEntry[]> {
    return this.serial(async () => {
      const picked = pickPending(this.segments, maxEntries, maxBytes);
      const reader = new EntryReader(picked);
      const out: TakenEntry[] = [];
      const lost: SpoolEntry[] = [];
      for (const entry of picked) {
        entry.state = "taken";
        this.pendingEntries--;
        this.waitingBytes -= entry.bytes;
        try {
          out.push({ entry, envelope: await reader.message(entry) });
        } catch (err) {
          if (!isRefusal(err) && (err as NodeJS.ErrnoException).code !== undefined) {
            // An I/O error, not bad content: everything picked stays for a later attempt.
            this.putBack(picked);
            throw err;
          }
          lost.push(entry);
          const detail = `${entry.length} bytes at offset ${entry.offset} of ${entry.segment.path}: ${(err as Error).message}`;
          this.options.logger.error(
            { err, path: entry.segment.path },
            "auditq spool: lost a frame",
          );
          this.options.onLoss(entry.records, "corrupt", detail);
        }
      }
      if (lost.length > 0) this.markDone(lost);
      await this.deleteFinished();
      return out;
    });
  }

  /** Puts taken entries back, to be taken again (in their original order). */
  putBack(entries: readonly SpoolEntry[]): void {
    for (const e of entries) {
      if (e.state !== "taken") continue;
      e.state = "pending";
      this.pendingEntries++;
      this.waitingBytes += e.bytes;
    }
  }

  /** Marks entries sent (or given up); deletes segments that have nothing left. */
  done(entries: readonly SpoolEntry[]): Promise<void> {
    this.markDone(entries);
    return this.serial(() => this.deleteFinished());
  }

  private markDone(entries: readonly SpoolEntry[]): void {
    for (const e of entries) {
      if (e.state === "done") continue;
      if (e.state === "pending") {
        this.pendingEntries--;
        this.waitingBytes -= e.bytes;
      }
      e.state = "done";
      e.segment.live--;
      this.pendingRecords -= e.records;
    }
  }

  /** Commits and closes the segments and removes the lock. Entries not done stay for the next open. */
  close(): Promise<void> {
    return this.serial(async () => {
      await this.writer.close();
      await this.deleteFinished();
      markUnlocked(this.lockPath);
      try {
        await unlink(this.lockPath);
      } catch (err) {
        this.options.logger.warn({ err }, "auditq spool: could not remove its lock file");
      }
    });
  }

  private async deleteFinished(): Promise<void> {
    for (let i = 0; i < this.segments.length; ) {
      const s = this.segments[i] as Segment;
      if (s.live === 0 && !s.writable) {
        await unlink(s.path);
        this.totalBytes -= s.size;
        this.segments.splice(i, 1);
      } else {
        i++;
      }
    }
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.then(task, task);
    this.chain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}

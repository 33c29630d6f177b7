// The spool's write side: frames go to the end of the current segment with synchronous writes
// (in the page cache when the call returns, so a `kill -9` right after cannot lose them), and
// are made durable against a host crash by group commits: one `fdatasync` for everything
// written since the last one (and a directory fsync when a segment was created).
import { close as closeFd, fdatasync, ftruncateSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Logger } from "../../shared/util/logger.js";
import { CREATE_FLAGS, FILE_MODE } from "./files.js";
import { syncDir } from "./io.js";
import type { Segment } from "./segments.js";

const datasyncFd = promisify(fdatasync);
const closeFdAsync = promisify(closeFd);

/**
 * With `durability: "disk"`, a group commit follows a write within this long: one `fdatasync`
 * covers every record written meanwhile, so the disk sees at most one sync per interval.
 */
export const DISK_COMMIT_INTERVAL_MS = 20;

export interface SegmentWriterOptions {
  dir: string;
  logger: Logger;
  /** The first segment number to create. */
  nextSeq: number;
  /** Called with each segment this writer creates. */
  created: (segment: Segment) => void;
}

export class SegmentWriter {
  private readonly options: SegmentWriterOptions;
  private nextSeq: number;
  private current: { segment: Segment; fd: number } | undefined;
  /** Descriptors of segments no longer written to, to sync and close at the next commit. */
  private retired: number[] = [];
  private dirty = false;
  private dirDirty = false;
  private commits: Promise<void> = Promise.resolve();
  private commitTimer: NodeJS.Timeout | undefined;
  private lastCommitAt = Number.NEGATIVE_INFINITY;

  constructor(options: SegmentWriterOptions) {
    this.options = options;
    this.nextSeq = options.nextSeq;
  }

  /**
   * Writes `data` in full at the end of the current segment (created if there is none) and
   * returns where. A failed or short write is cut off again (or, failing that, the segment is
   * retired), so no later frame follows a partial one; then the error is thrown.
   */
  writeNow(data: Buffer): { segment: Segment; offset: number } {
    const { segment, fd } = this.current ?? this.createSegment();
    const offset = segment.size;
    try {
      let done = 0;
      while (done < data.length) {
        const n = writeSync(fd, data, done, data.length - done, offset + done);
        if (n <= 0) throw new Error(`spool write made no progress at byte ${done}`);
        done += n;
      }
    } catch (err) {
      try {
        ftruncateSync(fd, offset);
      } catch (truncateErr) {
        this.options.logger.warn(
          { err: truncateErr },
          "auditq spool: could not cut a failed write",
        );
        this.retire();
      }
      throw err;
    }
    this.dirty = true;
    return { segment, offset };
  }

  /** No more writes to the current segment; the next write starts a new one. */
  retire(): void {
    const current = this.current;
    if (!current) return;
    this.current = undefined;
    current.segment.writable = false;
    this.retired.push(current.fd);
  }

  /** Makes everything written so far durable; resolves once it is. */
  commit(): Promise<void> {
    const run = this.commits.then(() => this.syncAll());
    this.commits = run.catch(() => undefined);
    return run;
  }

  /** A group commit within DISK_COMMIT_INTERVAL_MS of the last one; failures are logged. */
  commitSoon(): void {
    if (this.commitTimer !== undefined) return;
    const wait = Math.max(0, this.lastCommitAt + DISK_COMMIT_INTERVAL_MS - Date.now());
    this.commitTimer = setTimeout(() => {
      this.commitTimer = undefined;
      this.commit().catch((err: unknown) =>
        this.options.logger.error({ err }, "auditq spool: fdatasync failed"),
      );
    }, wait);
    // The data is in the page cache already (safe from a kill -9); an idle app may exit.
    this.commitTimer.unref();
  }

  /** Retires the current segment and commits: every descriptor is closed after. */
  async close(): Promise<void> {
    clearTimeout(this.commitTimer);
    this.commitTimer = undefined;
    this.retire();
    await this.commit();
  }

  private async syncAll(): Promise<void> {
    this.lastCommitAt = Date.now();
    const retired = this.retired;
    this.retired = [];
    const dirDirty = this.dirDirty;
    this.dirDirty = false;
    const dirty = this.dirty;
    this.dirty = false;
    try {
      if (dirty && this.current) await datasyncFd(this.current.fd);
      for (const fd of retired) await datasyncFd(fd);
      // Make new directory entries durable too, or a crash could lose a whole segment.
      if (dirDirty) await syncDir(this.options.dir);
    } catch (err) {
      this.dirty ||= dirty;
      this.dirDirty ||= dirDirty;
      throw err;
    } finally {
      for (const fd of retired) {
        await closeFdAsync(fd).catch((err: unknown) =>
          this.options.logger.warn({ err }, "auditq spool: could not close a segment"),
        );
      }
    }
  }

  private createSegment(): { segment: Segment; fd: number } {
    const seq = this.nextSeq++;
    const path = join(this.options.dir, `seg-${String(seq).padStart(16, "0")}.aqs`);
    const fd = openSync(path, CREATE_FLAGS, FILE_MODE);
    const segment: Segment = { seq, path, size: 0, entries: [], live: 0, writable: true };
    this.options.created(segment);
    this.current = { segment, fd };
    this.dirDirty = true;
    return this.current;
  }
}

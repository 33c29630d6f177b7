// Segment files and what a spool holds in memory about them; the recovery of a segment that a
// previous process left.
import { unlink } from "node:fs/promises";
import type { Logger } from "../../shared/util/logger.js";
import { isRefusal, openForRead } from "./files.js";
import { readAt } from "./io.js";
import { type FrameScan, scanSegmentFrames } from "./scan.js";

export const SEGMENT_RE = /^seg-(\d{16})\.aqs$/;

/** Why spooled records were lost: a torn or corrupt frame found by a scan, or by a read. */
type SpoolLoss = "corrupt";

export interface SpoolOpenOptions {
  dir: string;
  /** Total bytes of segment files at most; appends beyond it are refused. */
  maxBytes: number;
  /** A segment is closed and a new one started past this size. */
  segmentBytes?: number;
  logger: Logger;
  /** Told of every record found lost in the spool (torn or corrupt frames). */
  onLoss?: (records: number, reason: SpoolLoss, detail: string) => void;
}

/** One spooled message, located in its segment. */
export interface SpoolEntry {
  readonly segment: Segment;
  readonly offset: number;
  readonly length: number;
  readonly records: number;
  readonly bytes: number;
  state: "pending" | "taken" | "done";
}

export interface Segment {
  seq: number;
  path: string;
  size: number;
  entries: SpoolEntry[];
  /** Entries not yet done. */
  live: number;
  /** Still being appended to by this process. */
  writable: boolean;
}

/** What a scan of the existing segments found. */
export interface RecoveryReport {
  segments: number;
  entries: number;
  records: number;
  /** Bytes skipped in torn or corrupt frames. */
  corruptBytes: number;
  /** Records those frames claimed to hold (lost). */
  corruptRecords: number;
  /** Files with a segment's name refused as unsafe (symlink, FIFO, device, another user's). */
  refused: string[];
}

/**
 * Reads and checks one segment a previous process left, adding what it found to `recovered`.
 * Undefined when the file was refused as unsafe (left alone) or held no valid frame (deleted).
 */
export async function scanSegment(
  seq: number,
  path: string,
  options: Required<SpoolOpenOptions>,
  recovered: RecoveryReport,
): Promise<Segment | undefined> {
  const { logger, onLoss } = options;
  let file: Awaited<ReturnType<typeof openForRead>>;
  try {
    file = await openForRead(path);
  } catch (err) {
    if (!isRefusal(err)) throw err;
    recovered.refused.push(path);
    logger.error({ err, path }, "auditq spool: refused an unsafe file; it is not sent");
    return undefined;
  }
  let scan: FrameScan;
  try {
    scan = await scanSegmentFrames(file.size, (buf, position) =>
      readAt(file.handle, buf, position),
    );
  } finally {
    await file.handle.close();
  }
  const { frames, skipped, size } = scan;
  const segment: Segment = { seq, path, size, entries: [], live: 0, writable: false };
  for (const region of skipped) {
    recovered.corruptBytes += region.bytes;
    recovered.corruptRecords += region.records;
    const detail = `${region.bytes} bytes at offset ${region.offset} of ${path}`;
    logger.warn({ path, ...region }, "auditq spool: skipped a torn or corrupt frame");
    onLoss(region.records, "corrupt", detail);
  }
  if (frames.length === 0) {
    await unlink(path);
    return undefined;
  }
  segment.entries = frames.map((f) => ({ segment, ...f, state: "pending" }));
  segment.live = frames.length;
  recovered.segments++;
  recovered.entries += frames.length;
  for (const f of frames) recovered.records += f.records;
  return segment;
}

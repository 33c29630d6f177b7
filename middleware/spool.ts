// The crash-safe on-disk spool: encoded messages in append-only segment files with checksums.
//
// Segment file `seg-<16-digit sequence>.aqs`: a sequence of frames
//   magic "AQS1" | u32 payload length | u32 CRC32 of payload | payload
// and a payload is
//   u8 encoding (0 identity, 1 br, 2 gzip) | u32 record count | message body (UTF-8).
// All integers are big-endian. A process only ever appends to a segment it created; on open it
// starts a new one, so a torn frame left by `kill -9` is only ever at the tail of an old segment,
// where the scan stops (length past the end, bad magic or bad CRC) and skips the rest.
import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { type FileHandle, mkdir, open, readdir, readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { type BodyEncoding, envelopeAttributes, messageBytes } from "../shared/envelope.js";
import { AuditqError } from "../shared/errors.js";
import type { Logger } from "../shared/logger.js";
import type { Envelope } from "./packer.js";

const MAGIC = 0x41515331; // "AQS1"
const HEADER_BYTES = 12;
const PAYLOAD_HEADER_BYTES = 5;
const ENCODINGS: BodyEncoding[] = ["identity", "br", "gzip"];
const SEGMENT_RE = /^seg-(\d{16})\.aqs$/;

export interface SpoolOptions {
  dir: string;
  /** Total bytes of segment files at most; appends beyond it are refused. */
  maxBytes: number;
  /** A segment is closed and a new one started past this size. */
  segmentBytes?: number;
  logger: Logger;
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

interface Segment {
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
  /** Bytes skipped after a torn or corrupt frame. */
  corruptBytes: number;
}

/**
 * Appends are durable when they resolve: the frames are written and `fdatasync`ed (and the
 * directory fsynced when a segment is created). Progress through a segment is kept in memory
 * only; a segment file is deleted once every entry in it was sent, so a crash re-sends at most
 * the sent part of the oldest segments, which the sidecar's dedup by `_id` absorbs.
 */
export class Spool {
  private readonly options: Required<SpoolOptions>;
  private readonly segments: Segment[] = [];
  private current: { segment: Segment; handle: FileHandle } | undefined;
  private nextSeq = 0;
  private lockPath: string;
  private pendingRecords = 0;
  /** Entries in state "pending". */
  private pendingEntries = 0;
  private totalBytes = 0;
  /** Serializes appends, reads and deletions. */
  private chain: Promise<unknown> = Promise.resolve();
  readonly recovered: RecoveryReport;

  private constructor(options: Required<SpoolOptions>, recovered: RecoveryReport) {
    this.options = options;
    this.lockPath = join(options.dir, "LOCK");
    this.recovered = recovered;
  }

  /** Opens (creating) the spool directory, takes its lock and scans what a previous process left. */
  static async open(options: SpoolOptions): Promise<Spool> {
    const full: Required<SpoolOptions> = { segmentBytes: 1024 * 1024, ...options };
    await mkdir(full.dir, { recursive: true });
    takeLock(join(full.dir, "LOCK"));
    const recovered: RecoveryReport = { segments: 0, entries: 0, records: 0, corruptBytes: 0 };
    const spool = new Spool(full, recovered);
    const names = (await readdir(full.dir)).filter((n) => SEGMENT_RE.test(n)).sort();
    for (const name of names) {
      const seq = Number(SEGMENT_RE.exec(name)?.[1]);
      const path = join(full.dir, name);
      const data = await readFile(path);
      const segment: Segment = {
        seq,
        path,
        size: data.length,
        entries: [],
        live: 0,
        writable: false,
      };
      const { entries, corruptBytes } = scanFrames(data, segment);
      segment.entries = entries;
      segment.live = entries.length;
      spool.nextSeq = Math.max(spool.nextSeq, seq + 1);
      if (corruptBytes > 0) {
        recovered.corruptBytes += corruptBytes;
        full.logger.warn(
          { path, corruptBytes, entries: entries.length },
          "auditq spool: torn or corrupt frame; skipped the rest of the segment",
        );
      }
      if (entries.length === 0) {
        await unlink(path);
        continue;
      }
      spool.segments.push(segment);
      spool.totalBytes += segment.size;
      recovered.segments++;
      recovered.entries += entries.length;
      spool.pendingEntries += entries.length;
      for (const e of entries) {
        recovered.records += e.records;
        spool.pendingRecords += e.records;
      }
    }
    return spool;
  }

  /** Records waiting in the spool (pending or being sent). */
  get records(): number {
    return this.pendingRecords;
  }

  /** Bytes of segment files on disk. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** Whether any entry waits to be taken. */
  hasPending(): boolean {
    return this.pendingEntries > 0;
  }

  /**
   * Appends messages durably. Resolves to false, writing nothing, when they would take the
   * spool past `maxBytes`.
   */
  append(envelopes: readonly Envelope[]): Promise<boolean> {
    return this.serial(async () => {
      const frames = envelopes.map(frame);
      const size = frames.reduce((n, f) => n + f.length, 0);
      if (this.totalBytes + size > this.options.maxBytes) return false;
      const { segment, handle } = await this.writableSegment();
      const data = Buffer.concat(frames);
      await handle.write(data, 0, data.length, segment.size);
      await handle.datasync();
      let offset = segment.size;
      for (const [i, f] of frames.entries()) {
        const env = envelopes[i] as Envelope;
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
      }
      segment.size += size;
      this.totalBytes += size;
      if (segment.size >= this.options.segmentBytes) await this.closeCurrent();
      return true;
    });
  }

  /**
   * Takes the oldest pending entries, at most `maxEntries` and `maxBytes` of message size in
   * total (at least one), and reads their messages back. Mark them `done()` or `release()` them.
   */
  take(
    maxEntries: number,
    maxBytes: number,
  ): Promise<Array<{ entry: SpoolEntry; envelope: Envelope }>> {
    return this.serial(async () => {
      const picked: SpoolEntry[] = [];
      let bytes = 0;
      outer: for (const segment of this.segments) {
        for (const e of segment.entries) {
          if (e.state !== "pending") continue;
          if (picked.length === maxEntries || (picked.length > 0 && bytes + e.bytes > maxBytes)) {
            break outer;
          }
          picked.push(e);
          bytes += e.bytes;
        }
      }
      const out: Array<{ entry: SpoolEntry; envelope: Envelope }> = [];
      for (const entry of picked) {
        const buf = Buffer.alloc(entry.length);
        const handle = await open(entry.segment.path, "r");
        try {
          await handle.read(buf, 0, entry.length, entry.offset);
        } finally {
          await handle.close();
        }
        entry.state = "taken";
        this.pendingEntries--;
        out.push({ entry, envelope: unframe(buf) });
      }
      return out;
    });
  }

  /** Puts taken entries back, to be taken again (in their original order). */
  release(entries: readonly SpoolEntry[]): void {
    for (const e of entries) {
      if (e.state !== "taken") continue;
      e.state = "pending";
      this.pendingEntries++;
    }
  }

  /** Marks entries sent (or given up); deletes segments that have nothing left. */
  done(entries: readonly SpoolEntry[]): Promise<void> {
    for (const e of entries) {
      if (e.state === "done") continue;
      if (e.state === "pending") this.pendingEntries--;
      e.state = "done";
      e.segment.live--;
      this.pendingRecords -= e.records;
    }
    return this.serial(() => this.deleteFinished());
  }

  /** Closes the current segment and releases the lock. Entries not done stay for the next open. */
  close(): Promise<void> {
    return this.serial(async () => {
      await this.closeCurrent();
      await this.deleteFinished();
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

  private async writableSegment(): Promise<{ segment: Segment; handle: FileHandle }> {
    if (this.current) return this.current;
    const seq = this.nextSeq++;
    const path = join(this.options.dir, `seg-${String(seq).padStart(16, "0")}.aqs`);
    const handle = await open(path, "wx");
    // Make the new directory entry durable too, or a crash could lose the whole file.
    const dir = await open(this.options.dir, "r");
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
    const segment: Segment = { seq, path, size: 0, entries: [], live: 0, writable: true };
    this.segments.push(segment);
    this.current = { segment, handle };
    return this.current;
  }

  private async closeCurrent(): Promise<void> {
    const current = this.current;
    if (!current) return;
    this.current = undefined;
    current.segment.writable = false;
    await current.handle.close();
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

function frame(env: Envelope): Buffer {
  const body = Buffer.from(env.body, "utf8");
  const payload = Buffer.alloc(PAYLOAD_HEADER_BYTES + body.length);
  payload.writeUInt8(ENCODINGS.indexOf(env.encoding), 0);
  payload.writeUInt32BE(env.records, 1);
  body.copy(payload, PAYLOAD_HEADER_BYTES);
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32BE(MAGIC, 0);
  header.writeUInt32BE(payload.length, 4);
  header.writeUInt32BE(crc32(payload), 8);
  return Buffer.concat([header, payload]);
}

function unframe(buf: Buffer): Envelope {
  const payload = buf.subarray(HEADER_BYTES);
  const encoding = ENCODINGS[payload.readUInt8(0)] as BodyEncoding;
  const body = payload.subarray(PAYLOAD_HEADER_BYTES).toString("utf8");
  const attributes = envelopeAttributes(encoding);
  return {
    body,
    encoding,
    attributes,
    records: payload.readUInt32BE(1),
    bytes: messageBytes(body, attributes),
  };
}

/** Valid frames from the start of a segment, up to the first torn or corrupt one. */
function scanFrames(
  data: Buffer,
  segment: Segment,
): { entries: SpoolEntry[]; corruptBytes: number } {
  const entries: SpoolEntry[] = [];
  let offset = 0;
  while (offset < data.length) {
    const rest = data.length - offset;
    if (rest < HEADER_BYTES) break;
    if (data.readUInt32BE(offset) !== MAGIC) break;
    const length = data.readUInt32BE(offset + 4);
    if (length < PAYLOAD_HEADER_BYTES || length > rest - HEADER_BYTES) break;
    const payload = data.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + length);
    if (crc32(payload) !== data.readUInt32BE(offset + 8)) break;
    const encodingIndex = payload.readUInt8(0);
    if (encodingIndex >= ENCODINGS.length) break;
    const encoding = ENCODINGS[encodingIndex] as BodyEncoding;
    const bodyBytes = length - PAYLOAD_HEADER_BYTES;
    entries.push({
      segment,
      offset,
      length: HEADER_BYTES + length,
      records: payload.readUInt32BE(1),
      bytes: bodyBytes + messageBytes("", envelopeAttributes(encoding)),
      state: "pending",
    });
    offset += HEADER_BYTES + length;
  }
  return { entries, corruptBytes: data.length - offset };
}

/** One process per spool directory: a LOCK file with the owner's pid; a dead owner's is taken over. */
function takeLock(path: string): void {
  try {
    closeSync(openSync(path, "wx"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    const pid = Number(readFileSync(path, "utf8").trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) {
      throw new AuditqError(
        "ERR_AUDITQ_SPOOL",
        `spool directory is in use by process ${pid}; give each process its own spool.dir`,
        { details: { lock: path, pid } },
      );
    }
  }
  writeFileSync(path, String(process.pid));
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

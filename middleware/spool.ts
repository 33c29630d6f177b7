// The crash-safe on-disk spool: encoded messages in append-only segment files with checksums.
//
// Segment file `seg-<16-digit sequence>.aqs`: a sequence of frames
//   magic "AQS1" | u32 payload length | u32 CRC32 of payload | payload
// and a payload is
//   u8 encoding (0 identity, 1 br, 2 gzip) | u32 record count | message body (UTF-8).
// All integers are big-endian. A process only ever appends to a segment it created; on open it
// starts a new one, so a torn frame left by `kill -9` is only ever at the tail of an old segment,
// where the scan stops (length past the end, bad magic or bad CRC) and skips the rest.
import { closeSync, linkSync, openSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { type FileHandle, mkdir, open, readdir, readFile, rename, unlink } from "node:fs/promises";
import { join, resolve } from "node:path";
import { crc32 } from "node:zlib";
import { type BodyEncoding, envelopeAttributes, messageBytes } from "../shared/envelope.js";
import { AuditqError } from "../shared/errors.js";
import type { Logger } from "../shared/logger.js";
import type { Envelope } from "./packer.js";
import { sqsSafeJson } from "./sqs-text.js";

const MAGIC = 0x41515331; // "AQS1"
const HEADER_BYTES = 12;
const PAYLOAD_HEADER_BYTES = 5;
const ENCODINGS: BodyEncoding[] = ["identity", "br", "gzip"];
const SEGMENT_RE = /^seg-(\d{16})\.aqs$/;
/** LOCK files held by open spools of this process: busy to other instances in it. */
const heldLocks = new Set<string>();

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
    heldLocks.add(resolve(full.dir, "LOCK"));
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
      heldLocks.delete(resolve(this.lockPath));
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
    await syncDir(this.options.dir);
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
  const text = payload.subarray(PAYLOAD_HEADER_BYTES).toString("utf8");
  // Segments written before bodies were escaped may hold characters SQS refuses.
  const body = encoding === "identity" ? sqsSafeJson(text) : text;
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

/** How many slot directories a base directory has: one per process sharing it. */
export const SPOOL_SLOTS = 64;
const SLOT_RE = /^slot-(\d+)$/;

/** What opening a slot of a shared base directory found. */
export interface SlotOpen {
  spool: Spool;
  /** The slot this process took, `<base>/slot-<n>`. */
  slot: number;
  dir: string;
  /** Segment files moved in from slots whose process is gone. */
  adopted: { slots: number; segments: number };
}

/**
 * Opens the spool in the first free `slot-N` (N = 0..63) of a base directory, so several
 * processes on one host (cluster workers, pm2) can share one configured directory. A slot is
 * free when its LOCK is missing or held by a dead pid. Then the segment files of every other
 * slot whose process is gone (and of a pre-slot spool right in `base`) are moved into this
 * slot, behind its own, so no slot is orphaned when fewer processes start. Resolves to
 * undefined when all slots are held by live processes.
 */
export async function openSlot(options: SpoolOptions): Promise<SlotOpen | undefined> {
  const base = options.dir;
  await mkdir(base, { recursive: true });
  let slot = -1;
  for (let n = 0; n < SPOOL_SLOTS && slot < 0; n++) {
    const dir = join(base, `slot-${n}`);
    await mkdir(dir, { recursive: true });
    const lock = join(dir, "LOCK");
    if (!heldLocks.has(resolve(lock)) && tryLock(lock) === true) {
      heldLocks.add(resolve(lock));
      slot = n;
    }
  }
  if (slot < 0) return undefined;
  const dir = join(base, `slot-${slot}`);
  try {
    const adopted = await adoptOrphans(base, dir, options.logger);
    const spool = await Spool.open({ ...options, dir });
    return { spool, slot, dir, adopted };
  } catch (err) {
    heldLocks.delete(resolve(dir, "LOCK"));
    await unlink(join(dir, "LOCK")).catch((unlinkErr: unknown) =>
      options.logger.warn({ err: unlinkErr }, "auditq spool: could not remove its lock file"),
    );
    throw err;
  }
}

/**
 * Moves the segments of slots whose owner is gone into `own`, under fresh sequence numbers
 * after its own. A rename is atomic, so a crash leaves each segment in exactly one of the two
 * directories; the source's LOCK (now with this pid) is removed only after both directories
 * are fsynced, and a crash before that leaves it to the next process as a dead pid's.
 */
async function adoptOrphans(
  base: string,
  own: string,
  logger: Logger,
): Promise<{ slots: number; segments: number }> {
  const result = { slots: 0, segments: 0 };
  const candidates = [base];
  for (const entry of await readdir(base, { withFileTypes: true })) {
    if (entry.isDirectory() && SLOT_RE.test(entry.name) && join(base, entry.name) !== own) {
      candidates.push(join(base, entry.name));
    }
  }
  let nextSeq = (await segmentNames(own)).reduce((max, n) => Math.max(max, seqOf(n) + 1), 0);
  for (const source of candidates) {
    const names = await segmentNames(source);
    // A slot without segments is left alone: its LOCK, if any, is the next owner's business.
    if (names.length === 0) continue;
    const lock = join(source, "LOCK");
    if (heldLocks.has(resolve(lock)) || tryLock(lock) !== true) continue;
    heldLocks.add(resolve(lock));
    let locked: string[];
    try {
      // Listed again under the lock: the previous owner may have left more since.
      locked = await segmentNames(source);
      for (const name of locked) {
        const target = join(own, `seg-${String(nextSeq++).padStart(16, "0")}.aqs`);
        await rename(join(source, name), target);
      }
      await syncDir(own);
      await syncDir(source);
      await unlink(lock);
    } catch (err) {
      // What was moved is in `own` and what was not is still in `source`: release it as is.
      await unlink(lock).catch((unlinkErr: unknown) =>
        logger.warn({ err: unlinkErr, lock }, "auditq spool: could not remove a lock file"),
      );
      throw err;
    } finally {
      heldLocks.delete(resolve(lock));
    }
    if (locked.length > 0) {
      result.slots++;
      result.segments += locked.length;
      logger.info(
        { from: source, to: own, segments: locked.length },
        "auditq spool: adopted the segments of a process that is gone",
      );
    }
  }
  return result;
}

async function segmentNames(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => SEGMENT_RE.test(n)).sort();
}

function seqOf(name: string): number {
  return Number(SEGMENT_RE.exec(name)?.[1]);
}

async function syncDir(path: string): Promise<void> {
  const dir = await open(path, "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** One process per spool directory: a LOCK file with the owner's pid; a dead owner's is taken over. */
function takeLock(path: string): void {
  const taken = tryLock(path);
  if (taken !== true) {
    throw new AuditqError(
      "ERR_AUDITQ_SPOOL",
      `spool directory is in use by process ${taken}; give each process its own spool.dir`,
      { details: { lock: path, pid: taken } },
    );
  }
}

/**
 * Takes the LOCK at `path` when it is missing, held by a dead pid (or unreadable as a pid), or
 * already this process's. Returns true, or the pid of the live process that holds it (0 when
 * other processes kept taking it while this one tried). The file is created with its content
 * in one step (a hard link of a written temp file), so another process never reads it empty.
 */
function tryLock(path: string): true | number {
  for (let attempt = 0; attempt < 5; attempt++) {
    if (createLock(path)) return true;
    let holder: string;
    try {
      holder = readFileSync(path, "utf8").trim();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw err;
    }
    const pid = Number(holder);
    if (pid === process.pid) return true;
    if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) return pid;
    // A dead owner's lock: remove it unless someone else replaced it meanwhile, then retry.
    try {
      if (readFileSync(path, "utf8").trim() === holder) unlinkSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }
  return 0;
}

/** Creates the LOCK holding this pid; false when it exists. */
function createLock(path: string): boolean {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, String(process.pid));
  try {
    linkSync(tmp, path);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return false;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP") throw err;
    // A filesystem without hard links: create, then write (briefly empty to a reader).
    try {
      closeSync(openSync(path, "wx"));
    } catch (createErr) {
      if ((createErr as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw createErr;
    }
    writeFileSync(path, String(process.pid));
    return true;
  } finally {
    unlinkSync(tmp);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

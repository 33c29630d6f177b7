// Slots: one spool base directory shared by the processes of a host, one `slot-N` each.
import { readdir, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../../shared/util/logger.js";
import { privateChain } from "./dir-chain.js";
import { checkPrivateDir, privateDir } from "./files.js";
import { syncDir } from "./io.js";
import { markLocked, markUnlocked, ownsLock, tryLock } from "./lock.js";
import { SEGMENT_RE, type SpoolOpenOptions } from "./segments.js";
import { Spool } from "./spool.js";

/** How many slot directories a base directory has: one per process sharing it. */
export const SPOOL_SLOTS = 64;
const SLOT_RE = /^slot-(\d+)$/;

export interface SlotOpenOptions extends SpoolOpenOptions {
  /**
   * The top the base directory hangs from (the OS temp dir, for the default spool): it is
   * checked by the sticky rule and every level below it is created and checked as private
   * (dir-chain.ts). Without it, the existing parents of `dir` are the operator's.
   */
  top?: string | undefined;
}

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
 * undefined when all slots are held by live processes. The base and slot directories, and every
 * level between `top` and the base, must be private to this user (files.ts, dir-chain.ts):
 * anything else is refused with an error.
 */
export async function openSlot(opening: SlotOpenOptions): Promise<SlotOpen | undefined> {
  const { top, ...given } = opening;
  const base = await privateChain(given.dir, top);
  let slot = -1;
  for (let n = 0; n < SPOOL_SLOTS && slot < 0; n++) {
    const dir = join(base, `slot-${n}`);
    const lock = join(dir, "LOCK");
    // A slot another instance of this process holds was checked when it was taken: skipped
    // without touching the disk, so the k-th instance of a process (a test suite building an
    // app per test) does not pay k directory checks (docs/benchmarks.md, "Cold start").
    if (ownsLock(lock)) continue;
    await privateDir(dir);
    if (tryLock(lock) === true) {
      markLocked(lock);
      slot = n;
    }
  }
  if (slot < 0) return undefined;
  const dir = join(base, `slot-${slot}`);
  try {
    const adopted = await adoptOrphans(base, dir, given.logger);
    const spool = await Spool.open({ ...given, dir });
    return { spool, slot, dir, adopted };
  } catch (err) {
    markUnlocked(join(dir, "LOCK"));
    await unlink(join(dir, "LOCK")).catch((unlinkErr: unknown) =>
      given.logger.warn({ err: unlinkErr }, "auditq spool: could not remove its lock file"),
    );
    throw err;
  }
}

/**
 * Moves the segments of slots whose owner is gone into `own`, under fresh sequence numbers
 * after its own. A rename is atomic, so a crash leaves each segment in exactly one of the two
 * directories; the source's LOCK (now with this pid) is removed only after both directories
 * are fsynced, and a crash before that leaves it to the next process as a dead pid's. A rename
 * moves a link, not what it points to: unsafe files are refused when the spool reads them.
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
    const lock = join(source, "LOCK");
    // A slot of a live instance of this process is never adopted: not even listed.
    if (ownsLock(lock)) continue;
    await checkPrivateDir(source);
    const names = await segmentNames(source);
    // A slot without segments is left alone: its LOCK, if any, is the next owner's business.
    if (names.length === 0) continue;
    if (tryLock(lock) !== true) continue;
    markLocked(lock);
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
      // What was moved is in `own` and what was not is still in `source`: unlock it as is.
      await unlink(lock).catch((unlinkErr: unknown) =>
        logger.warn({ err: unlinkErr, lock }, "auditq spool: could not remove a lock file"),
      );
      throw err;
    } finally {
      markUnlocked(lock);
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

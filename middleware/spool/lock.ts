// The spool's LOCK file: one live process per spool directory, told apart by pid.
import { closeSync, linkSync, openSync, unlinkSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { AuditqError } from "../../shared/util/errors.js";
import { CREATE_FLAGS, FILE_MODE, REWRITE_FLAGS, readSmallFileSync } from "./files.js";

/** LOCK files owned by open spools of this process: busy to other instances in it. */
const ownLocks = new Set<string>();

/** Whether this process owns the LOCK at `path` already. */
export function ownsLock(path: string): boolean {
  return ownLocks.has(resolve(path));
}

export function markLocked(path: string): void {
  ownLocks.add(resolve(path));
}

export function markUnlocked(path: string): void {
  ownLocks.delete(resolve(path));
}

/** One process per spool directory: a LOCK file with the owner's pid; a dead owner's is acquired. */
export function acquireLock(path: string): void {
  const holder = tryLock(path);
  if (holder !== true) {
    throw new AuditqError(
      "ERR_AUDITQ_SPOOL",
      `spool directory is in use by process ${holder}; give each process its own spool.dir`,
      { details: { lock: path, pid: holder } },
    );
  }
  markLocked(path);
}

/**
 * Acquires the LOCK at `path` when it is missing, held by a dead pid (or unreadable as a pid), or
 * already this process's. Returns true, or the pid of the live process that holds it (0 when
 * other processes kept acquiring it while this one tried). The file is created with its content
 * in one step (a hard link of a written temp file), so another process never reads it empty.
 * A LOCK that is a symlink, a FIFO or another user's file is refused (throws).
 */
export function tryLock(path: string): true | number {
  for (let attempt = 0; attempt < 5; attempt++) {
    if (createLock(path)) return true;
    let holder: string;
    try {
      holder = readSmallFileSync(path).trim();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw err;
    }
    const pid = Number(holder);
    if (pid === process.pid) return true;
    if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) return pid;
    // A dead owner's lock: remove it unless someone else replaced it meanwhile, then retry.
    try {
      if (readSmallFileSync(path).trim() === holder) unlinkSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }
  return 0;
}

/** Creates the LOCK holding this pid; false when it exists. */
function createLock(path: string): boolean {
  const tmp = `${path}.${process.pid}.tmp`;
  const tmpFd = openSync(tmp, REWRITE_FLAGS, FILE_MODE);
  try {
    writeFileSync(tmpFd, String(process.pid));
  } finally {
    closeSync(tmpFd);
  }
  try {
    linkSync(tmp, path);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return false;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP") throw err;
    // A filesystem without hard links: create, then write (briefly empty to a reader).
    let fd: number;
    try {
      fd = openSync(path, CREATE_FLAGS, FILE_MODE);
    } catch (createErr) {
      if ((createErr as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw createErr;
    }
    try {
      writeFileSync(fd, String(process.pid));
    } finally {
      closeSync(fd);
    }
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

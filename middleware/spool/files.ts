// Safe file access for the spool: private directories and files, and nothing opened that an
// attacker could have put in its place (a symlink, a FIFO, a device, another user's file).
//
// The spool holds audit records (PII) and is replayed under the app's SQS credentials, so a
// file another local user can read or plant is a leak or a forged record; a FIFO hangs a read,
// a link to /dev/zero is an endless one. Directories are created 0700 and files 0600; a
// directory must be a real directory owned by this process's user (it is then tightened to
// 0700 if it was wider); a file is opened with O_NOFOLLOW and O_NONBLOCK, then must be a regular
// file owned by this user. O_NOFOLLOW and owner checks do not exist on Windows, where only the
// file-type check applies.
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from "node:fs";
import { chmod, type FileHandle, lstat, mkdir, open } from "node:fs/promises";
import { AuditqError } from "../../shared/util/errors.js";

const NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const NONBLOCK = constants.O_NONBLOCK ?? 0;
const READ_FLAGS = constants.O_RDONLY | NOFOLLOW | NONBLOCK;
/** Create a new file, never through an existing name (O_EXCL also refuses a dangling symlink). */
export const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW;
/** Create or truncate a file of this process's (the LOCK's temp file), not through a symlink. */
export const REWRITE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | NOFOLLOW;
export const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

const uid = process.getuid?.();

/** A spool path that is not safe to use; `details.path` names it. */
export function refusal(path: string, why: string): AuditqError {
  return new AuditqError("ERR_AUDITQ_SPOOL", `refusing spool path ${path}: ${why}`, {
    details: { path, unsafe: true },
  });
}

/** Whether an error is a refusal made by these checks (not an I/O failure). */
export function isRefusal(err: unknown): boolean {
  return err instanceof AuditqError && err.details.unsafe === true;
}

function checkOwner(path: string, stats: Stats): void {
  if (uid !== undefined && stats.uid !== uid) {
    throw refusal(path, `owned by uid ${stats.uid}, not by this process's uid ${uid}`);
  }
}

/**
 * Creates `path` with mode 0700 (its parent must exist: dir-chain.ts creates and checks each
 * level), then checks it: a directory, not a symlink, owned by this user; group or other
 * permissions on it are removed.
 */
export async function privateDir(path: string): Promise<void> {
  try {
    await mkdir(path, { mode: DIR_MODE });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  const stats = await checkPrivateDir(path);
  if (uid !== undefined && (stats.mode & 0o077) !== 0) await chmod(path, DIR_MODE);
}

/**
 * Checks an existing directory as {@link privateDir} does, without creating it: a directory,
 * not a symlink, owned by this user. Returns what it read of it.
 */
export async function checkPrivateDir(path: string): Promise<Stats> {
  const stats = await lstat(path);
  if (stats.isSymbolicLink()) throw refusal(path, "it is a symbolic link");
  if (!stats.isDirectory()) throw refusal(path, "it is not a directory");
  checkOwner(path, stats);
  return stats;
}

function checkFile(path: string, stats: Stats): void {
  if (!stats.isFile()) throw refusal(path, "it is not a regular file");
  checkOwner(path, stats);
}

/** Opens a spool file for reading; refuses a symlink, a non-regular file, another user's file. */
export async function openForRead(path: string): Promise<{ handle: FileHandle; size: number }> {
  let handle: FileHandle;
  try {
    handle = await open(path, READ_FLAGS);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ELOOP") {
      throw refusal(path, "it is a symbolic link");
    }
    throw err;
  }
  try {
    const stats = await handle.stat();
    checkFile(path, stats);
    return { handle, size: stats.size };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** The start of a small spool file (a LOCK), read safely; at most `maxBytes`. */
export function readSmallFileSync(path: string, maxBytes = 64): string {
  let fd: number;
  try {
    fd = openSync(path, READ_FLAGS);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ELOOP") {
      throw refusal(path, "it is a symbolic link");
    }
    throw err;
  }
  try {
    checkFile(path, fstatSync(fd));
    const buf = Buffer.alloc(maxBytes);
    const n = readSync(fd, buf, 0, maxBytes, 0);
    return buf.toString("utf8", 0, n);
  } finally {
    closeSync(fd);
  }
}

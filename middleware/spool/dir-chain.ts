// The directories on the way to the spool: the top it hangs from, and every level below it,
// created one at a time and each checked to be private, so no other local user can swap one.
//
// A check of the spool directory alone is not enough: whoever owns (or may write in) a parent
// can rename the spool directory away and put one of theirs in its place after it was checked.
// So, from a top down to the spool directory:
// - the top and each of its ancestors (the default spool's top is the OS temp dir) must be a
//   directory owned by root or by this user, and one that group or others may write in must be
//   sticky (like /tmp, root's and mode 1777), where no one may rename another user's entries;
// - every level below the top is auditq's own, whether created now or found: a real directory
//   (not a symlink), owned by this user, tightened to 0700 (see files.ts `privateDir`).
// Owner and mode checks do not exist on Windows, where only the type checks apply.
import { lstat, realpath, stat } from "node:fs/promises";
import { dirname, isAbsolute, join, parse, relative, resolve, sep } from "node:path";
import { privateDir, refusal } from "./files.js";

const uid = process.getuid?.();
const STICKY = 0o1000;

/**
 * Creates and checks every level of `dir` below `top`, after checking `top` and its ancestors
 * by the sticky rule. Resolves to the spool directory's path under the top's real path (the
 * top may be named through the OS's own links, such as macOS's /var -> /private/var).
 *
 * Without a `top` (a `spool.dir` of the operator's), the directories that already exist above
 * `dir` are the operator's choice and are not checked (an emptyDir volume is 0777 in
 * Kubernetes): only the levels auditq creates, and `dir` itself, are.
 */
export async function privateChain(dir: string, top?: string): Promise<string> {
  let start: string;
  let levels: string[];
  if (top === undefined) {
    start = await existingAncestor(dirname(resolve(dir)));
    levels = relative(start, resolve(dir)).split(sep);
  } else {
    const rel = relative(resolve(top), resolve(dir));
    if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) {
      throw new Error(`the spool directory ${dir} is not below ${top}`);
    }
    start = await realpath(top);
    await checkTop(start);
    levels = rel.split(sep);
  }
  let path = start;
  for (const level of levels) {
    path = join(path, level);
    await privateDir(path);
  }
  return path;
}

/** The top and each directory above it: owned by root or this user, sticky if others may write. */
async function checkTop(top: string): Promise<void> {
  const { root } = parse(top);
  for (let path = top; ; path = dirname(path)) {
    const stats = await lstat(path);
    // Not an attack but a broken environment (TMPDIR naming a file): an I/O error, not a refusal.
    if (!stats.isDirectory()) {
      throw Object.assign(new Error(`ENOTDIR: ${path} is not a directory`), { code: "ENOTDIR" });
    }
    if (uid !== undefined) {
      if (stats.uid !== 0 && stats.uid !== uid) {
        throw refusal(
          path,
          `owned by uid ${stats.uid}, neither root nor this process's uid ${uid}`,
        );
      }
      if ((stats.mode & 0o022) !== 0 && (stats.mode & STICKY) === 0) {
        const mode = (stats.mode & 0o7777).toString(8).padStart(4, "0");
        throw refusal(path, `others may write in it (mode ${mode}) and it is not sticky`);
      }
    }
    if (path === root) return;
  }
}

/** The deepest directory of `path` and its parents that exists. */
async function existingAncestor(path: string): Promise<string> {
  for (let p = path; ; p = dirname(p)) {
    try {
      await stat(p);
      return p;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT" || dirname(p) === p) throw err;
    }
  }
}

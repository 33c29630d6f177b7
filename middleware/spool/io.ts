// Reads of spool files at a position: byte counts checked, short transfers completed or
// reported, never taken as done.
import { type FileHandle, open } from "node:fs/promises";
import { openForRead } from "./files.js";
import { HEADER_BYTES } from "./frames.js";

/**
 * Fills `buf` with the file's bytes from `position`; resolves to how many it read, fewer only
 * where the file ends.
 */
export async function readAt(handle: FileHandle, buf: Buffer, position: number): Promise<number> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await handle.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

/** `length` bytes at `offset` of a file opened safely; fewer when the file ends first. */
export async function readRange(path: string, offset: number, length: number): Promise<Buffer> {
  const { handle } = await openForRead(path);
  try {
    const buf = Buffer.alloc(length);
    return buf.subarray(0, await readAt(handle, buf, offset));
  } finally {
    await handle.close();
  }
}

/** One entry's frame out of `data`, read from `from` of its segment; throws (no errno) when short. */
export function frameOf(
  data: Buffer,
  from: number,
  entry: { readonly offset: number; readonly length: number },
): Buffer {
  const buf = data.subarray(entry.offset - from, entry.offset - from + entry.length);
  if (buf.length < HEADER_BYTES || buf.length !== entry.length) {
    throw new Error(`read ${buf.length} of the frame's ${entry.length} bytes`);
  }
  return buf;
}

export async function syncDir(path: string): Promise<void> {
  const dir = await open(path, "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

// Whole reads and writes of spool files: byte counts checked, short transfers completed or
// reported, never taken as done.
import { open } from "node:fs/promises";
import { openForRead } from "./files.js";
import { HEADER_BYTES } from "./frames.js";

/** A whole segment file, opened safely; a file that shrinks meanwhile gives what is there. */
export async function readWhole(path: string): Promise<Buffer> {
  const { handle, size } = await openForRead(path);
  try {
    const buf = Buffer.alloc(size);
    let done = 0;
    while (done < size) {
      const { bytesRead } = await handle.read(buf, done, size - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return buf.subarray(0, done);
  } finally {
    await handle.close();
  }
}

/** `length` bytes at `offset` of a file opened safely; fewer when the file ends first. */
export async function readRange(path: string, offset: number, length: number): Promise<Buffer> {
  const { handle } = await openForRead(path);
  try {
    const buf = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await handle.read(buf, done, length - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return buf.subarray(0, done);
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

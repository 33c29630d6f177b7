// Whole reads and writes of spool files: byte counts checked, short transfers completed or
// reported, never taken as done.
import { type FileHandle, open } from "node:fs/promises";
import { openForRead } from "./spool-files.js";
import { HEADER_BYTES } from "./spool-frames.js";

/** Writes all of `data` at `position`, however many writes it takes; throws if none progresses. */
export async function writeFully(
  handle: FileHandle,
  data: Buffer,
  position: number,
): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await handle.write(data, done, data.length - done, position + done);
    if (bytesWritten <= 0) throw new Error(`spool write made no progress at byte ${done}`);
    done += bytesWritten;
  }
}

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

/** One entry's frame; throws (with a message, no errno) when fewer bytes than its length come back. */
export async function readEntry(entry: {
  readonly segment: { readonly path: string };
  readonly offset: number;
  readonly length: number;
}): Promise<Buffer> {
  const { handle } = await openForRead(entry.segment.path);
  try {
    const buf = Buffer.alloc(entry.length);
    let done = 0;
    while (done < entry.length) {
      const { bytesRead } = await handle.read(buf, done, entry.length - done, entry.offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    if (done < HEADER_BYTES || done !== entry.length) {
      throw new Error(`read ${done} of the frame's ${entry.length} bytes`);
    }
    return buf;
  } finally {
    await handle.close();
  }
}

export async function syncDir(path: string): Promise<void> {
  const dir = await open(path, "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

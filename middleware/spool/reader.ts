// The spool's read side: which pending entries a take gets, and their messages read back from
// the segment files, one read per segment, each frame checked again.
import type { EncodedMessage } from "../message/packer.js";
import { unframe } from "./frames.js";
import { frameOf, readRange } from "./io.js";
import type { Segment, SpoolEntry } from "./segments.js";

/** An entry taken from the spool, with its message read back. */
export interface TakenEntry {
  entry: SpoolEntry;
  envelope: EncodedMessage;
}

/**
 * The oldest pending entries, at most `maxEntries` and `maxBytes` of message size in total (at
 * least one).
 */
export function pickPending(
  segments: readonly Segment[],
  maxEntries: number,
  maxBytes: number,
): SpoolEntry[] {
  const picked: SpoolEntry[] = [];
  let bytes = 0;
  for (const segment of segments) {
    for (const e of segment.entries) {
      if (e.state !== "pending") continue;
      if (picked.length === maxEntries || (picked.length > 0 && bytes + e.bytes > maxBytes)) {
        return picked;
      }
      picked.push(e);
      bytes += e.bytes;
    }
  }
  return picked;
}

/**
 * Reads the messages of picked entries: the first entry of a run of adjacent picked entries in a
 * segment reads the whole run (disk-first logs many small ones), the others reuse it. What lies
 * between runs (entries not picked, skipped garbage of any size) is never read.
 */
export class EntryReader {
  private readonly picked: readonly SpoolEntry[];
  private readonly reads = new Map<SpoolEntry, Promise<{ from: number; data: Buffer }>>();

  constructor(picked: readonly SpoolEntry[]) {
    this.picked = picked;
  }

  /**
   * The message of `entry`. Throws an error with an errno `code` when the read failed, and one
   * without (or a refusal) when its frame does not check out.
   */
  async message(entry: SpoolEntry): Promise<EncodedMessage> {
    let read = this.reads.get(entry);
    if (!read) {
      const run = runOf(this.picked, entry);
      read = readRun(run);
      // Awaited below, entry by entry; a failure is handled there.
      read.catch(() => undefined);
      for (const e of run) this.reads.set(e, read);
    }
    const { from, data } = await read;
    return unframe(frameOf(data, from, entry));
  }
}

const endOf = (e: SpoolEntry) => e.offset + e.length;

/** The picked entries of `entry`'s segment that form one stretch of bytes with it, in order. */
function runOf(picked: readonly SpoolEntry[], entry: SpoolEntry): SpoolEntry[] {
  const same = picked
    .filter((e) => e.segment === entry.segment)
    .sort((a, b) => a.offset - b.offset);
  let first = same.indexOf(entry);
  let last = first;
  while (first > 0 && endOf(same[first - 1] as SpoolEntry) === (same[first] as SpoolEntry).offset) {
    first--;
  }
  while (
    last < same.length - 1 &&
    endOf(same[last] as SpoolEntry) === (same[last + 1] as SpoolEntry).offset
  ) {
    last++;
  }
  return same.slice(first, last + 1);
}

/** The bytes of a run of adjacent entries. */
async function readRun(run: readonly SpoolEntry[]): Promise<{ from: number; data: Buffer }> {
  const first = run[0] as SpoolEntry;
  const from = first.offset;
  const end = endOf(run[run.length - 1] as SpoolEntry);
  return { from, data: await readRange(first.segment.path, from, end - from) };
}

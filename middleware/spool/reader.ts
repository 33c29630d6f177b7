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
 * Reads the messages of picked entries: the first entry of a segment reads the span of that
 * segment holding all its picked entries (disk-first logs many small ones), the others reuse it.
 */
export class EntryReader {
  private readonly picked: readonly SpoolEntry[];
  private readonly reads = new Map<Segment, Promise<{ from: number; data: Buffer }>>();

  constructor(picked: readonly SpoolEntry[]) {
    this.picked = picked;
  }

  /**
   * The message of `entry`. Throws an error with an errno `code` when the read failed, and one
   * without (or a refusal) when its frame does not check out.
   */
  async message(entry: SpoolEntry): Promise<EncodedMessage> {
    let read = this.reads.get(entry.segment);
    if (!read) {
      read = readSpan(this.picked, entry.segment);
      // Awaited below, entry by entry; a failure is handled there.
      read.catch(() => undefined);
      this.reads.set(entry.segment, read);
    }
    const { from, data } = await read;
    return unframe(frameOf(data, from, entry));
  }
}

/** The bytes of a segment that hold the picked entries in it. */
async function readSpan(
  picked: readonly SpoolEntry[],
  segment: Segment,
): Promise<{ from: number; data: Buffer }> {
  let from = Number.POSITIVE_INFINITY;
  let end = 0;
  for (const e of picked) {
    if (e.segment !== segment) continue;
    from = Math.min(from, e.offset);
    end = Math.max(end, e.offset + e.length);
  }
  return { from, data: await readRange(segment.path, from, end - from) };
}

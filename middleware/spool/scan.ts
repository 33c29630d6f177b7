// The scan that finds the valid frames of a segment, reading it in bounded windows: a segment of
// any size, garbage or a sparse hole included, costs one window of memory.
import {
  claimedRecords,
  type FoundFrame,
  MAX_FRAME_BYTES,
  type SkippedRegion,
  undecidedAt,
  validFrameAt,
} from "./frames.js";

/** What a scan reads at once beyond the longest frame. */
const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * The most a scan holds and reads at once: a chunk, plus one frame that starts at its end. A
 * frame starting in the first READ_CHUNK_BYTES of a window always ends inside it.
 */
export const SCAN_WINDOW_BYTES = READ_CHUNK_BYTES + MAX_FRAME_BYTES;

/**
 * Reads the segment's bytes from `position` into `buf`; resolves to how many it read, fewer than
 * `buf.length` only where the file ends.
 */
export type ReadAt = (buf: Buffer, position: number) => Promise<number>;

/** What a scan found: valid frames, and the regions between them that hold none. */
export interface FrameScan {
  frames: FoundFrame[];
  skipped: SkippedRegion[];
  /** Bytes scanned: the segment's size as it was read. */
  size: number;
}

interface ScanState {
  frames: FoundFrame[];
  skipped: SkippedRegion[];
  /** A region without a valid frame, from `offset`, whose end is not found yet. */
  gap: { offset: number; records: number } | undefined;
}

const MAGIC_TEXT = "AQS1";

/**
 * Every valid frame of a segment of `size` bytes, read through `readAt` one window at a time.
 * After a torn or corrupt frame the scan resynchronises on the next offset where a whole frame
 * with a valid checksum starts, so one flipped bit costs only its own frame; the bytes in
 * between are reported as skipped regions.
 */
export async function scanSegmentFrames(size: number, readAt: ReadAt): Promise<FrameScan> {
  const state: ScanState = { frames: [], skipped: [], gap: undefined };
  const buf = Buffer.alloc(Math.min(SCAN_WINDOW_BYTES, size));
  let position = 0;
  let last = size === 0;
  while (!last) {
    const want = Math.min(buf.length, size - position);
    const got = await readAt(buf.subarray(0, want), position);
    last = got < want || position + got >= size;
    position = scanWindow(state, buf.subarray(0, got), position, last);
  }
  return { frames: state.frames, skipped: state.skipped, size: position };
}

/** Every valid frame of a whole segment held in memory (as {@link scanSegmentFrames}). */
export function scanFrames(data: Buffer): FrameScan {
  const state: ScanState = { frames: [], skipped: [], gap: undefined };
  const size = scanWindow(state, data, 0, true);
  return { frames: state.frames, skipped: state.skipped, size };
}

/**
 * Scans `window`, the segment's bytes from offset `base`, as far as they decide. Returns the
 * offset where the next window must start; the window's end when it is the `last` one (the
 * segment's end), where a region still open is closed.
 */
function scanWindow(state: ScanState, window: Buffer, base: number, last: boolean): number {
  const end = base + window.length;
  let p = base;
  while (p < end) {
    const local = p - base;
    if (state.gap === undefined) {
      if (!last && undecidedAt(window, local)) return p;
      const found = validFrameAt(window, local);
      if (found) {
        state.frames.push({ ...found, offset: p });
        p += found.length;
      } else {
        state.gap = { offset: p, records: claimedRecords(window, local) };
        p++;
      }
      continue;
    }
    const next = window.indexOf(MAGIC_TEXT, local, "latin1");
    if (next < 0) {
      if (last) break;
      // A magic may straddle the window's end: look again from where it could start.
      return Math.max(p, end - (MAGIC_TEXT.length - 1));
    }
    if (!last && undecidedAt(window, next)) return base + next;
    if (validFrameAt(window, next)) {
      closeGap(state, base + next);
      p = base + next;
    } else {
      p = base + next + 1;
    }
  }
  if (last) closeGap(state, end);
  return end;
}

function closeGap(state: ScanState, at: number): void {
  const gap = state.gap;
  if (gap === undefined) return;
  state.skipped.push({ offset: gap.offset, bytes: at - gap.offset, records: gap.records });
  state.gap = undefined;
}

// The windowed scan of a segment: the same frames as a scan of the whole file, in reads of at
// most one window, whatever the segment's size or garbage.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { EncodedMessage } from "../../../../middleware/message/packer.js";
import { frame, MAX_FRAME_BYTES } from "../../../../middleware/spool/frames.js";
import {
  type ReadAt,
  SCAN_WINDOW_BYTES,
  scanFrames,
  scanSegmentFrames,
} from "../../../../middleware/spool/scan.js";
import { envelopeAttributes } from "../../../../shared/wire/envelope.js";
import { messageBytes } from "../../../../shared/wire/sqs-limits.js";

const MiB = 1024 * 1024;

function framed(body: string, records = 1): Buffer {
  const attributes = envelopeAttributes("identity");
  const env: EncodedMessage = {
    body,
    encoding: "identity",
    attributes,
    records,
    bytes: messageBytes(body, attributes),
  };
  return frame(env);
}

/** A reader over `bytes(position, length)`, recording the length of every read. */
function counting(size: number, bytes: (buf: Buffer, position: number) => void) {
  const lengths: number[] = [];
  const readAt: ReadAt = async (buf, position) => {
    const n = Math.max(0, Math.min(buf.length, size - position));
    lengths.push(buf.length);
    bytes(buf.subarray(0, n), position);
    return n;
  };
  return { readAt, lengths };
}

describe("scanSegmentFrames", () => {
  it("finds what a whole-file scan finds, with frames and garbage across window edges", async () => {
    const data = Buffer.alloc(3 * SCAN_WINDOW_BYTES + 12_345);
    randomBytes(data.length).copy(data);
    // Fake magics in the garbage: resync candidates that do not check out.
    for (let at = 1000; at < data.length - 4; at += 777_777) data.write("AQS1", at, "latin1");
    const big = framed("x".repeat(MAX_FRAME_BYTES - 17 - 100), 7);
    const placed = [
      { at: 0, f: framed("first", 2) },
      { at: SCAN_WINDOW_BYTES - 3, f: framed("straddles a window's end") },
      { at: SCAN_WINDOW_BYTES + MiB - 10, f: big },
      { at: 2 * SCAN_WINDOW_BYTES + MiB + 2, f: framed("after the big one") },
      { at: data.length - 30, f: framed("torn at the end") },
    ];
    for (const { at, f } of placed) f.copy(data, at);
    const { readAt, lengths } = counting(data.length, (buf, position) =>
      data.copy(buf, 0, position, position + buf.length),
    );
    const windowed = await scanSegmentFrames(data.length, readAt);
    expect(windowed).toEqual(scanFrames(data));
    expect(windowed.frames.map((f) => f.offset)).toEqual(placed.slice(0, 4).map((p) => p.at));
    expect(windowed.frames.map((f) => f.records)).toEqual([2, 1, 7, 1]);
    expect(windowed.size).toBe(data.length);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(SCAN_WINDOW_BYTES);
  });

  it("reads 5 GiB of zeros in reads of one window at most, keeping the frames around it", async () => {
    // The sparse segment: more than a Buffer may hold on Node 20, so a whole read failed.
    const head = framed("head", 3);
    const tail = framed("tail", 4);
    const size = 5 * 1024 * MiB;
    const tailAt = size - tail.length;
    let dirty = true;
    const { readAt, lengths } = counting(size, (buf, position) => {
      // Zero only what holds something else: the scan reuses its buffer.
      if (dirty) buf.fill(0);
      dirty = false;
      if (position < head.length) head.copy(buf, 0, position);
      if (position + buf.length > tailAt) {
        const from = Math.max(tailAt, position);
        tail.copy(buf, from - position, from - tailAt);
      }
      dirty = position < head.length || position + buf.length > tailAt;
    });
    const scan = await scanSegmentFrames(size, readAt);
    expect(scan.frames.map((f) => [f.offset, f.records])).toEqual([
      [0, 3],
      [tailAt, 4],
    ]);
    expect(scan.skipped).toEqual([
      { offset: head.length, bytes: tailAt - head.length, records: 1 },
    ]);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(SCAN_WINDOW_BYTES);
    // Each byte read about once: zeros are not read again for a frame that might start in them.
    expect(lengths.length).toBeLessThan(size / SCAN_WINDOW_BYTES + 3);
  });

  it("takes a header claiming more than the longest frame for garbage, and reads on", async () => {
    const liar = framed("liar");
    liar.writeUInt32BE(0xffff_fff0, 4);
    const good = framed("good");
    const data = Buffer.concat([liar, good]);
    const { readAt } = counting(data.length, (buf, p) => data.copy(buf, 0, p, p + buf.length));
    const scan = await scanSegmentFrames(data.length, readAt);
    expect(scan.frames.map((f) => f.offset)).toEqual([liar.length]);
    expect(scan.skipped).toEqual([{ offset: 0, bytes: liar.length, records: 1 }]);
  });

  it("never writes a frame longer than a scan accepts", () => {
    expect(() => framed("y".repeat(MAX_FRAME_BYTES))).toThrow(/longer than a spool frame/);
  });
});

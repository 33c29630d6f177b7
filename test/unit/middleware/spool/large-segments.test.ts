// Huge segments (issue 25): sparse or garbage-filled files are scanned and read back in bounded
// windows, and the good records beside them (in other segments or the same one) are kept.
import {
  appendFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
} from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { EncodedMessage } from "../../../../middleware/message/packer.js";
import { Spool } from "../../../../middleware/spool/spool.js";
import { envelopeAttributes } from "../../../../shared/wire/envelope.js";
import { messageBytes } from "../../../../shared/wire/sqs-limits.js";
import { silentLogger } from "../../../helpers/logger.js";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
/** What one read call may ask for: a window of a scan, or the frames of one take. */
const MAX_READ_BYTES = 8 * MiB;
/**
 * The size of a sparse segment, or of the garbage in one. The 5 GiB (past the 4 GiB a Buffer may hold on Node 20) made
 * the spool refuse to open; reading a hole is not free (seconds per GiB on a small VM), so the
 * files here stay smaller and the bounded reads show that size no longer matters. scan.test.ts
 * scans 5 GiB through a reader that makes its zeros.
 */
const HUGE = 256 * MiB;

function envelope(body: string, records = 1): EncodedMessage {
  const attributes = envelopeAttributes("identity");
  return { body, encoding: "identity", attributes, records, bytes: messageBytes(body, attributes) };
}

/** Lengths of every `FileHandle.read` call made while `run` runs. */
async function readLengths(run: () => Promise<void>): Promise<number[]> {
  const probe = await open(__filename, "r");
  const proto = Object.getPrototypeOf(probe) as FileHandle;
  await probe.close();
  const original = proto.read;
  const lengths: number[] = [];
  const spy = vi.spyOn(proto, "read").mockImplementation(function (this: FileHandle, ...args) {
    const [buffer, offset, length] = args as unknown as [Buffer, number?, number?];
    lengths.push(length ?? buffer.length - (offset ?? 0));
    return (original as (...a: unknown[]) => ReturnType<FileHandle["read"]>).apply(this, args);
  });
  try {
    await run();
  } finally {
    spy.mockRestore();
  }
  return lengths;
}

describe("huge spool segments", () => {
  let dir: string;
  const losses: number[] = [];
  const open = () =>
    Spool.open({
      dir,
      maxBytes: 8 * GiB,
      logger: silentLogger,
      onLoss: (records) => losses.push(records),
    });
  const segments = () =>
    readdirSync(dir)
      .filter((n) => n.endsWith(".aqs"))
      .sort();

  /** Appends `bodies` in a spool session of their own: one new segment. */
  async function session(bodies: string[]): Promise<string> {
    const spool = await open();
    await spool.append(bodies.map((b) => envelope(b, 2)));
    await spool.close();
    return join(dir, segments().at(-1) as string);
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "auditq-huge-"));
    losses.length = 0;
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("opens beside a sparse segment and yields the others' records, in bounded reads", async () => {
    await session(["a", "b"]);
    const sparse = await session(["lost"]);
    await session(["c"]);
    truncateSync(sparse, 0);
    truncateSync(sparse, HUGE); // a hole: no disk used
    let opened: Spool | undefined;
    const lengths = await readLengths(async () => {
      opened = await open();
    });
    expect(Math.max(...lengths)).toBeLessThanOrEqual(MAX_READ_BYTES);
    const spool = opened as Spool;
    expect(spool.recovered).toMatchObject({ entries: 3, records: 6, corruptBytes: HUGE });
    expect(losses).toEqual([1]);
    const taken = await spool.take(100, 1 << 30);
    expect(taken.map((t) => t.envelope.body)).toEqual(["a", "b", "c"]);
    await spool.done(taken.map((t) => t.entry));
    expect(segments()).toEqual([]);
    await spool.close();
  });

  it("reads a segment of good frames around a sparse hole of zeros in bounded reads", async () => {
    const path = await session(["first"]);
    const good = readFileSync(path);
    truncateSync(path, good.length + HUGE);
    appendFileSync(path, good); // the same frame again, after the garbage
    let spool: Spool | undefined;
    let bodies: string[] = [];
    const lengths = await readLengths(async () => {
      spool = await open();
      const taken = await spool.take(10, 1 << 30);
      bodies = taken.map((t) => t.envelope.body);
    });
    expect(bodies).toEqual(["first", "first"]);
    expect(spool?.recovered).toMatchObject({ entries: 2, corruptBytes: HUGE });
    expect(Math.max(...lengths)).toBeLessThanOrEqual(MAX_READ_BYTES);
    await spool?.close();
  });
});

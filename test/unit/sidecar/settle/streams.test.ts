// The stream book's batching: the marks that wait while a write is in flight go in the next one,
// merged by stream (highest hwm, end if any, every loss range once), with the sidecar's write
// concern; each message learns whether its own stream was written.
import type { Collection, Document } from "mongodb";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import type { StreamMark } from "../../../../shared/wire/stream.js";
import { createSidecarMetrics } from "../../../../sidecar/config/metrics.js";
import { mergeMarks, StreamBook } from "../../../../sidecar/settle/streams.js";
import { silentLogger } from "../../../helpers/logger.js";

const A = "a".repeat(22);
const B = "b".repeat(22);

interface Upsert {
  filter: { _id: string };
  update: Document;
  upsert: boolean;
}
interface Call {
  ops: Upsert[];
  options: Document;
  /** Settles the call: resolves it, or rejects it with `err`. */
  answer(err?: unknown): void;
}

/** A streams collection whose `bulkWrite` calls wait until the test answers them. */
function heldStreams() {
  const calls: Call[] = [];
  const collection = {
    bulkWrite(ops: { updateOne: Upsert }[], options: Document) {
      return new Promise<void>((resolve, reject) => {
        calls.push({
          ops: ops.map((o) => o.updateOne),
          options,
          answer: (err) => (err === undefined ? resolve() : reject(err)),
        });
      });
    },
  };
  return { calls, collection: collection as unknown as Collection<Document> };
}

/** The driver's error for an unordered bulk some of whose ops were refused, the rest matched. */
class BulkRefused extends Error {
  override name = "MongoBulkWriteError";
  constructor(
    readonly writeErrors: { index: number; code: number; errmsg: string }[],
    ops: number,
  ) {
    super("bulk write failed");
    this.result = {
      getWriteConcernError: () => undefined,
      matchedCount: ops - writeErrors.length,
      upsertedCount: 0,
    };
  }
  readonly result: {
    getWriteConcernError(): undefined;
    matchedCount: number;
    upsertedCount: number;
  };
}

function book(collection: Collection<Document>) {
  const seen: string[] = [];
  const spent: number[] = [];
  const streams = new StreamBook({
    streams: collection,
    writeConcern: { w: "majority", journal: true },
    deadline: (_operation, work) => work,
    rate: {
      spend: async (n: number) => {
        spent.push(n);
        return true;
      },
    },
    metrics: createSidecarMetrics(new Registry(), async () => undefined),
    logger: silentLogger,
    gaps: { seen: (id: string) => seen.push(id) },
  });
  return { streams, seen, spent };
}

/** Lets pending promise callbacks run (the book's loop between calls). */
async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met within 2 s");
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe("mergeMarks", () => {
  it("keeps one mark per stream: the highest hwm, end if any has it, each loss range once", () => {
    const marks: StreamMark[] = [
      { id: A, hwm: 30 },
      { id: B, hwm: 5, lost: [{ from: 2, to: 3, reason: "buffer-full" }] },
      { id: A, hwm: 50, end: true },
      { id: A, hwm: 40 },
      { id: B, hwm: 9, lost: [{ from: 2, to: 3, reason: "buffer-full" }] },
      { id: B, hwm: 7, lost: [{ from: 6, to: 6, reason: "too-large" }] },
    ];
    expect(mergeMarks(marks)).toEqual([
      { id: A, hwm: 50, end: true },
      {
        id: B,
        hwm: 9,
        lost: [
          { from: 2, to: 3, reason: "buffer-full" },
          { from: 6, to: 6, reason: "too-large" },
        ],
      },
    ]);
  });
});

describe("StreamBook", () => {
  it("writes the marks that waited during a write in one bulk, one upsert per stream", async () => {
    const { calls, collection } = heldStreams();
    const { streams, seen, spent } = book(collection);
    const first = streams.note({ id: A, hwm: 10 });
    await until(() => calls.length === 1);
    const waited = [
      streams.note({ id: A, hwm: 30 }),
      streams.note({ id: B, hwm: 4 }),
      streams.note({ id: A, hwm: 20, end: true }),
    ];
    calls[0]?.answer();
    expect(await first).toBe(true);
    await until(() => calls.length === 2);
    const second = calls[1] as Call;
    expect(second.options).toMatchObject({
      ordered: false,
      writeConcern: { w: "majority", journal: true },
    });
    expect(second.ops.map((op) => [op.filter._id, op.update.$max, op.update.$set.end])).toEqual([
      [A, { hwm: 30 }, true],
      [B, { hwm: 4 }, undefined],
    ]);
    expect(second.ops.every((op) => op.upsert)).toBe(true);
    second.answer();
    expect(await Promise.all(waited)).toEqual([true, true, true]);
    expect(calls).toHaveLength(2);
    expect(spent).toEqual([1, 2]);
    expect(seen).toEqual([A, A, B]);
  });

  it("fails only the messages of a stream whose upsert was refused", async () => {
    const { calls, collection } = heldStreams();
    const { streams, seen } = book(collection);
    const noted = [streams.note({ id: A, hwm: 1 })];
    await until(() => calls.length === 1);
    noted.push(streams.note({ id: B, hwm: 2 }), streams.note({ id: A, hwm: 3 }));
    calls[0]?.answer();
    await until(() => calls.length === 2);
    expect(calls[1]?.ops.map((op) => op.filter._id)).toEqual([B, A]);
    // B's upsert refused for the document's sake; A's written.
    calls[1]?.answer(new BulkRefused([{ index: 0, code: 2, errmsg: "bad value" }], 2));
    expect(await Promise.all(noted)).toEqual([true, false, true]);
    expect(seen).toEqual([A, A]);
  });

  it("writes again the upserts that lost a race to insert their stream", async () => {
    const { calls, collection } = heldStreams();
    const { streams } = book(collection);
    const noted = [streams.note({ id: A, hwm: 1 }), streams.note({ id: B, hwm: 2 })];
    await until(() => calls.length === 1);
    expect(calls[0]?.ops.map((op) => op.filter._id)).toEqual([A]);
    calls[0]?.answer(new BulkRefused([{ index: 0, code: 11000, errmsg: "E11000" }], 1));
    await until(() => calls.length === 2);
    expect(calls[1]?.ops.map((op) => op.filter._id)).toEqual([A]);
    calls[1]?.answer();
    await until(() => calls.length === 3);
    expect(calls[2]?.ops.map((op) => op.filter._id)).toEqual([B]);
    calls[2]?.answer();
    expect(await Promise.all(noted)).toEqual([true, true]);
  });

  it("fails every waiting message when the outcome is unknown", async () => {
    const { calls, collection } = heldStreams();
    const { streams, seen } = book(collection);
    const noted = streams.note({ id: A, hwm: 1 });
    await until(() => calls.length === 1);
    calls[0]?.answer(new Error("connection reset"));
    expect(await noted).toBe(false);
    expect(seen).toEqual([]);
  });
});

// The producer stream as the batcher drives it: numbers, marks, loss statements, the end mark
// (pure logic on a stub SQS; delivery is proven in test/integration/stream-proof.test.ts).
import { ObjectId } from "bson";
import { describe, expect, it } from "vitest";
import { ProducerStream, rangesOf } from "../../../../middleware/batcher/stream.js";
import { decodeEnvelope } from "../../../../shared/wire/decoder.js";
import { acceptingSqs, testBatcher } from "../../../helpers/batcher-config.js";

const record = (pad = 0) => ({ _id: new ObjectId(), ts: new Date(), pad: "x".repeat(pad) });

describe("ProducerStream", () => {
  it("numbers 1, 2, 3 and merges losses of one reason into ranges", () => {
    const s = new ProducerStream();
    expect(s.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect([s.next(), s.next(), s.next(), s.next()]).toEqual([1, 2, 3, 4]);
    s.lose([2], "buffer-full");
    s.lose([3], "buffer-full");
    s.lose([4], "too-large");
    expect(s.mark()).toEqual({
      id: s.id,
      hwm: 4,
      lost: [
        { from: 2, to: 3, reason: "buffer-full" },
        { from: 4, to: 4, reason: "too-large" },
      ],
    });
    expect(s.mark().lost).toBeUndefined();
  });

  it("makes the fewest ranges", () => {
    expect(rangesOf([5, 1, 2, 3, 7])).toEqual([
      { from: 1, to: 3 },
      { from: 5, to: 5 },
      { from: 7, to: 7 },
    ]);
  });

  it("resumes a stream only before its first number", () => {
    const s = new ProducerStream();
    expect(s.resume("B".repeat(22), 10, [])).toBe(true);
    expect(s.next()).toBe(11);
    expect(s.resume("C".repeat(22), 50, [])).toBe(false);
    expect(s.id).toBe("B".repeat(22));
  });
});

describe("Batcher stream", () => {
  it("numbers every record, marks every message and ends the stream at close", async () => {
    const { sqs, sent } = acceptingSqs();
    const { batcher } = testBatcher(sqs);
    for (let i = 0; i < 30; i++) batcher.add(record(100));
    await batcher.close(5000);
    const decoded = sent.map((body) => decodeEnvelope(body));
    const ns = decoded.flatMap((d) => d.records.map((r) => (r.seq as { n: number }).n));
    expect(ns).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    for (const d of decoded) {
      expect(d.stream?.id).toBe(batcher.stream.id);
      for (const r of d.records) expect(r.seq).toMatchObject({ stream: batcher.stream.id });
    }
    const last = decoded[decoded.length - 1];
    expect(last?.records).toEqual([]);
    expect(last?.stream).toEqual({ id: batcher.stream.id, hwm: 30, end: true });
    expect(decoded.slice(0, -1).every((d) => d.stream?.end === undefined)).toBe(true);
  });

  it("sends no end-of-stream for a stream that numbered no record", async () => {
    const { sqs, sent } = acceptingSqs();
    const { batcher } = testBatcher(sqs);
    const report = await batcher.close(5000);
    expect(sent).toEqual([]);
    expect(report).toEqual({ sent: 0, spooled: 0, dropped: 0 });
  });

  it("states a buffer-full drop with its exact range on the next message", async () => {
    const { sqs, sent } = acceptingSqs();
    const { batcher } = testBatcher(sqs, { maxBufferBytes: 1000 });
    const added = [];
    for (let i = 0; i < 6; i++) added.push(batcher.add(record(300)));
    expect(added).toEqual([true, true, false, false, false, false]);
    await batcher.flush();
    batcher.add(record(10));
    await batcher.close(5000);
    const lost = sent.flatMap((body) => decodeEnvelope(body).stream?.lost ?? []);
    expect(lost).toEqual([{ from: 3, to: 6, reason: "buffer-full" }]);
  });

  it("gives no number to a record added after close()", async () => {
    const { sqs, sent } = acceptingSqs();
    const { batcher } = testBatcher(sqs);
    batcher.add(record());
    await batcher.close(5000);
    expect(batcher.add(record())).toBe(false);
    expect(batcher.stream.hwm).toBe(1);
    expect(decodeEnvelope(sent[sent.length - 1] as string).stream?.hwm).toBe(1);
  });
});

// Record numbers on the wire: each message's mark names its records' `n` as ranges (`ns`), and
// every path that cuts, splits, re-packs, requeues or spools messages keeps them exact; what a
// mark cannot name (records of another stream, too many ranges) carries its own `seq`.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { ObjectId } from "bson";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Item, Packer } from "../../../../middleware/message/packer.js";
import {
  decodeMeasured,
  measureMessage,
  type ReceivedMessageLike,
} from "../../../../shared/wire/decoder.js";
import { serializeRecord } from "../../../../shared/wire/record-json.js";
import { MAX_N_RANGES_PER_MESSAGE, type StreamMark } from "../../../../shared/wire/stream.js";
import { FULL_CALL, spoolOpened, testBatcher } from "../../../helpers/batcher-config.js";

type Entry = NonNullable<SendMessageBatchCommand["input"]["Entries"]>[number];

/** What the sidecar reads from one message: its envelope text, mark and records' numbers. */
async function read(message: ReceivedMessageLike) {
  const measured = await measureMessage(message);
  const text = measured.bytes.toString("utf8");
  const { records, stream } = decodeMeasured(measured);
  return { text, stream, seqs: records.map((r) => r.seq as { stream: string; n: number }) };
}

const entryMessage = (e: Entry): ReceivedMessageLike => ({
  Body: e.MessageBody,
  MessageAttributes: e.MessageAttributes,
});

/** An SQS stub: `reply` decides each call; every entry it accepts is kept. */
function stubSqs(reply: (entries: Entry[], call: number) => "ok" | Error | Set<string>) {
  const accepted: Entry[] = [];
  let calls = 0;
  const sqs = {
    send: async (command: SendMessageBatchCommand) => {
      const entries = command.input.Entries ?? [];
      const verdict = reply(entries, ++calls);
      if (verdict instanceof Error) throw verdict;
      const refused = verdict === "ok" ? new Set<string>() : verdict;
      accepted.push(...entries.filter((e) => !refused.has(e.Id as string)));
      return {
        Successful: entries.filter((e) => !refused.has(e.Id as string)).map((e) => ({ Id: e.Id })),
        Failed: entries
          .filter((e) => refused.has(e.Id as string))
          .map((e) => ({ Id: e.Id, SenderFault: true, Code: "InvalidMessageContents" })),
      };
    },
  } as unknown as SQSClient;
  return { sqs, accepted };
}

/** The numbers of every record accepted, in the order sent, and each message's text. */
async function sentNumbers(accepted: readonly Entry[]) {
  const read_ = await Promise.all(accepted.map((e) => read(entryMessage(e))));
  return {
    texts: read_.map((r) => r.text).filter((t) => !t.includes('"records":[]')),
    seqs: read_.flatMap((r) => r.seqs),
  };
}

const record = (pad = 0) => ({ _id: new ObjectId(), ts: new Date(), pad: "x".repeat(pad) });
const oneTo = (to: number) => Array.from({ length: to }, (_, i) => i + 1);

describe("record numbers in the mark", () => {
  it("names them in the mark as one range per message, not in the records", async () => {
    const { sqs, accepted } = stubSqs(() => "ok");
    const { batcher } = testBatcher(sqs);
    for (let i = 0; i < 30; i++) batcher.add(record(100));
    await batcher.close(5000);
    const { texts, seqs } = await sentNumbers(accepted);
    expect(seqs).toEqual(oneTo(30).map((n) => ({ stream: batcher.stream.id, n })));
    expect(texts.length).toBeGreaterThan(1);
    for (const text of texts) {
      expect(text).not.toContain('"seq"');
      expect(text).toMatch(/"ns":\[\[\d+,\d+\]\]\}\}$/);
    }
  });

  it("numbers a record that came with a seq of its own in place of it", async () => {
    const { sqs, accepted } = stubSqs(() => "ok");
    const { batcher } = testBatcher(sqs);
    batcher.add({ ...record(), seq: { stream: "x".repeat(22), n: 99 } });
    await batcher.close(5000);
    const { seqs } = await sentNumbers(accepted);
    expect(seqs).toEqual([{ stream: batcher.stream.id, n: 1 }]);
  });

  it("keeps each part's ranges when a compressed message splits", async () => {
    const { sqs, accepted } = stubSqs(() => "ok");
    const { batcher } = testBatcher(sqs, {
      compression: "br",
      maxMessageBytes: 4096,
      maxBatchBytes: 16_384,
    });
    // Random text compresses badly: the packer's first estimate is too optimistic.
    for (let i = 0; i < 100; i++)
      batcher.add({ ...record(), noise: randomBytes(150).toString("base64") });
    await batcher.close(5000);
    const { texts, seqs } = await sentNumbers(accepted);
    expect(seqs.map((s) => s.n)).toEqual(oneTo(100));
    for (const text of texts) expect(text).toContain('"ns":[[');
  });

  it("keeps them through SQS's re-split of a message too long and re-pack of a rejected one", async () => {
    // Refuses any call with a message of more than 2 records as too long, and rejects the
    // message that holds the poison record.
    const { sqs, accepted } = stubSqs((entries) => {
      const counts = entries.map((e) =>
        Number(/^\{"auditq":1,"n":(\d+)/.exec(e.MessageBody as string)?.[1]),
      );
      if (counts.some((c) => c > 2)) {
        return Object.assign(new Error("too long"), { name: "BatchRequestTooLong" });
      }
      return new Set(
        entries.filter((e) => e.MessageBody?.includes("poison")).map((e) => e.Id as string),
      );
    });
    const { batcher, errors } = testBatcher(sqs, { ...FULL_CALL });
    for (let i = 1; i <= 9; i++)
      batcher.add(i === 4 ? { ...record(), text: "poison" } : record(50));
    await batcher.flush();
    const { texts, seqs } = await sentNumbers(accepted);
    // Re-packed parts go out ahead of newer messages: the order of messages is not kept.
    expect(seqs.map((s) => s.n).sort((a, b) => a - b)).toEqual([1, 2, 3, 5, 6, 7, 8, 9]);
    for (const text of texts) expect(text).toContain('"ns":[[');
    const quarantined = errors.filter((e) => e.details.reason === "rejected");
    expect(quarantined).toHaveLength(1);
    expect(JSON.parse(quarantined[0]?.details.record as string)).toMatchObject({
      text: "poison",
      seq: { stream: batcher.stream.id, n: 4 },
    });
    await batcher.close(5000);
  });

  it("keeps them when a failed call is sent again", async () => {
    const { sqs, accepted } = stubSqs((_, call) =>
      call === 1 ? new Error("connect ECONNREFUSED") : "ok",
    );
    const { batcher } = testBatcher(sqs, { retry: { baseMs: 1, maxMs: 5 } });
    for (let i = 0; i < 12; i++) batcher.add(record(100));
    await batcher.close(5000);
    const { texts, seqs } = await sentNumbers(accepted);
    expect(seqs.map((s) => s.n)).toEqual(oneTo(12));
    for (const text of texts) expect(text).toContain('"ns":[[');
  });

  it("states the exact numbers lost of what the close deadline drops", async () => {
    // Every call fails: at the deadline the messages wait in memory for the next try.
    const { sqs } = stubSqs(() => new Error("connect ECONNREFUSED"));
    const { batcher } = testBatcher(sqs, {
      maxMessageBytes: 600,
      maxBatchBytes: 600,
      retry: { baseMs: 1000, maxMs: 1000 },
    });
    for (let i = 0; i < 5; i++) batcher.add(record(100));
    expect(await batcher.close(200)).toMatchObject({ dropped: 5 });
    expect(batcher.stream.mark().lost).toEqual([{ from: 1, to: 5, reason: "close-timeout" }]);
  });
});

describe("what a mark cannot name", () => {
  const id = "AbCdEfGhIjKlMnOpQrStUv";
  const packer = (hwm: number) =>
    new Packer({
      maxMessageBytes: 262_144,
      maxBatchBytes: 262_144,
      compression: "identity",
      maxRecordsPerMessage: 10_000,
      stream: { id, hwm, mark: (): StreamMark => ({ id, hwm }), restate: () => undefined },
    });
  const items = (ns: readonly number[]): Item[] =>
    ns.map((n) => {
      const json = serializeRecord(record());
      return { json, bytes: Buffer.byteLength(json), n };
    });

  it("names numbers with gaps (records dropped in between) as several ranges", async () => {
    const { envelopes } = await packer(10).encode(items([1, 2, 3, 7, 8, 10]));
    const [env] = envelopes;
    const { stream, seqs } = await read({ Body: env?.body });
    expect(env?.body).toContain('"ns":[[1,3],[7,8],[10,10]]');
    expect(stream?.hwm).toBe(10);
    expect(seqs.map((s) => s.n)).toEqual([1, 2, 3, 7, 8, 10]);
  });

  it("sends numbers in more ranges than a mark holds in the records themselves", async () => {
    const odd = Array.from({ length: MAX_N_RANGES_PER_MESSAGE + 1 }, (_, i) => 2 * i + 1);
    const { envelopes } = await packer(100).encode(items(odd));
    const [env] = envelopes;
    expect(env?.body).not.toContain('"ns"');
    const { seqs } = await read({ Body: env?.body });
    expect(seqs).toEqual(odd.map((n) => ({ stream: id, n })));
  });
});

describe('durability: "disk" after a restart', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "auditq-mark-numbers-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function diskBatcher(sqs: SQSClient) {
    return testBatcher(sqs, {
      ...FULL_CALL,
      maxBufferBytes: 16 << 20,
      compression: "br",
      spool: { dir, maxBytes: 1 << 30, afterMs: 3_600_000 },
      durability: "disk",
    }).batcher;
  }

  /** A first process logs 40 records and stops before SQS takes any; returns its stream id. */
  async function logged(): Promise<string> {
    const hung = { send: () => new Promise(() => undefined) } as unknown as SQSClient;
    const first = diskBatcher(hung);
    await spoolOpened(first);
    for (let i = 0; i < 40; i++) {
      first.add(record(200));
      if (i % 10 === 9) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await first.close(300)).toMatchObject({ spooled: 40, dropped: 0 });
    return first.stream.id;
  }

  it("sends the logged records under the resumed stream, numbered in the marks", async () => {
    const stream = await logged();
    const { sqs, accepted } = stubSqs(() => "ok");
    const second = diskBatcher(sqs);
    await spoolOpened(second);
    await second.flush();
    expect(second.stream.id).toBe(stream);
    const { texts, seqs } = await sentNumbers(accepted);
    expect(seqs).toEqual(oneTo(40).map((n) => ({ stream, n })));
    for (const text of texts) expect(text).toContain('"ns":[[');
    await second.close(5000);
  });

  it("sends logged records of a stream it does not continue with their own seq", async () => {
    const stream = await logged();
    unlinkSync(join(dir, "slot-0", "STREAM"));
    const { sqs, accepted } = stubSqs(() => "ok");
    const second = diskBatcher(sqs);
    await spoolOpened(second);
    second.add(record(10));
    await second.flush();
    expect(second.stream.id).not.toBe(stream);
    const { seqs } = await sentNumbers(accepted);
    expect(seqs).toEqual([
      ...oneTo(40).map((n) => ({ stream, n })),
      { stream: second.stream.id, n: 1 },
    ]);
    await second.close(5000);
  });
});

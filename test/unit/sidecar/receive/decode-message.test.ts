// The sidecar's decoding of a message's record numbers: from the mark's `ns` (written into each
// record as `seq`), from records that carry their own `seq` (earlier producers), or none (older
// ones); a mark whose numbers do not match its records is rejected (quarantined), never stored.
import type { Message } from "@aws-sdk/client-sqs";
import { type Document, ObjectId } from "bson";
import { describe, expect, it } from "vitest";
import { DEFAULT_DECODE_LIMITS } from "../../../../shared/wire/decoder.js";
import { ENVELOPE_ATTRIBUTES, envelopeBody } from "../../../../shared/wire/envelope.js";
import { serializeRecord } from "../../../../shared/wire/record-json.js";
import { MAX_N_RANGES_PER_MESSAGE, type StreamMark } from "../../../../shared/wire/stream.js";
import {
  type DecodeMessageDeps,
  type DecodeOutcome,
  decodeMessage,
} from "../../../../sidecar/receive/decode-message.js";

const STREAM = "AbCdEfGhIjKlMnOpQrStUv";

const records = (count: number) =>
  Array.from({ length: count }, (_, i) => ({ _id: new ObjectId(), ts: new Date(i), i }));

/** Decodes one message as the sidecar does; the records it held, if any. */
async function decode(body: string): Promise<{ outcome: DecodeOutcome; held: Document[] }> {
  const held: Document[] = [];
  const deps: DecodeMessageDeps = {
    signingSecrets: [],
    limits: DEFAULT_DECODE_LIMITS,
    maxMessageRecords: 10_000,
    maxHeld: { records: 1_000_000, bytes: 1 << 30 },
    held: () => ({ records: 0, bytes: 0 }),
    waitForRoom: async () => undefined,
    hold: (docs) => held.push(...docs),
    signal: new AbortController().signal,
  };
  const message: Message = { MessageId: "m-1", Body: body, MessageAttributes: ENVELOPE_ATTRIBUTES };
  return { outcome: await decodeMessage(message, deps), held };
}

/** A message of `count` records whose mark carries `ns` as given (any JSON). */
function marked(count: number, ns: unknown, hwm = 100): string {
  const body = envelopeBody(records(count).map(serializeRecord), { id: STREAM, hwm });
  return body.replace(`"hwm":${hwm}}}`, `"hwm":${hwm},"ns":${JSON.stringify(ns)}}}`);
}

const numbers = (docs: Document[]) => docs.map((d) => d.seq as { stream: string; n: number });

describe("decoding record numbers", () => {
  it("writes seq into each record from the mark's ranges, as its last key", async () => {
    const docs = records(5);
    const mark: StreamMark = {
      id: STREAM,
      hwm: 12,
      ns: [
        [3, 4],
        [10, 12],
      ],
    };
    const { outcome, held } = await decode(envelopeBody(docs.map(serializeRecord), mark));
    expect(outcome).toMatchObject({ kind: "held", records: 5, stream: { id: STREAM, hwm: 12 } });
    expect(numbers(held)).toEqual([3, 4, 10, 11, 12].map((n) => ({ stream: STREAM, n })));
    // Stored exactly as a record that carried its own seq: same keys, same order.
    const own = docs.map((d, i) => ({ ...d, seq: { stream: STREAM, n: [3, 4, 10, 11, 12][i] } }));
    expect(held.map((d) => Object.keys(d))).toEqual(own.map((d) => Object.keys(d)));
    expect(held).toEqual(own);
  });

  it("reads records that carry their own seq, and messages with no mark at all", async () => {
    const own = records(3).map((r, i) => ({ ...r, seq: { stream: STREAM, n: i + 1 } }));
    const old = await decode(envelopeBody(own.map(serializeRecord), { id: STREAM, hwm: 3 }));
    expect(old.outcome).toMatchObject({ kind: "held", records: 3 });
    expect(numbers(old.held)).toEqual([1, 2, 3].map((n) => ({ stream: STREAM, n })));
    const none = await decode(envelopeBody(records(2).map(serializeRecord)));
    expect(none.outcome).toEqual({ kind: "held", records: 2, stream: undefined });
    expect(none.held.map((d) => d.seq)).toEqual([undefined, undefined]);
  });

  it("rejects a mark whose ranges do not match its records, and stores none of them", async () => {
    const tooMany = Array.from({ length: MAX_N_RANGES_PER_MESSAGE + 1 }, (_, i) => [
      2 * i + 1,
      2 * i + 1,
    ]);
    const cases: [string, string][] = [
      ["fewer numbers than records", marked(3, [[1, 2]])],
      ["more numbers than records", marked(3, [[1, 4]])],
      [
        "overlapping ranges",
        marked(4, [
          [1, 2],
          [2, 3],
        ]),
      ],
      [
        "decreasing ranges",
        marked(4, [
          [5, 6],
          [1, 2],
        ]),
      ],
      ["a range backwards", marked(2, [[6, 5]])],
      ["a number above the high-water mark", marked(2, [[99, 100]], 99)],
      ["a number 0", marked(2, [[0, 1]])],
      ["not a pair", marked(2, [[1, 2, 3]])],
      ["not an array", marked(2, "1-2")],
      ["too many ranges", marked(MAX_N_RANGES_PER_MESSAGE + 1, tooMany)],
      ["a mark that is not valid", marked(2, [[1, 2]]).replace(`"id":"${STREAM}"`, '"id":"short"')],
      [
        "a record with its own seq as well",
        envelopeBody([serializeRecord({ _id: new ObjectId(), seq: { stream: STREAM, n: 1 } })], {
          id: STREAM,
          hwm: 1,
          ns: [[1, 1]],
        }),
      ],
    ];
    for (const [what, body] of cases) {
      const { outcome, held } = await decode(body);
      expect(outcome.kind, what).toBe("rejected");
      expect(held, what).toEqual([]);
    }
  });

  it("refuses too many ranges before reading one", async () => {
    const ranges = Array.from({ length: 5000 }, () => "x");
    const { outcome } = await decode(marked(1, ranges));
    expect(outcome).toEqual({
      kind: "rejected",
      reason: `stream mark names 5000 ranges of record numbers, more than ${MAX_N_RANGES_PER_MESSAGE}`,
    });
  });
});

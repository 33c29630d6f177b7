// `npm run bench:wire-seq`: what sequence numbers cost on the wire (issue 21: ≤ 2 %). The same
// realistic records packed by the producer's Packer twice: as producers before version 2 sent
// them (no `seq`, no stream mark), and numbered (each record's `"seq":{"stream":…,"n":…}` as
// its last key, every message carrying the stream's mark). Bytes per record as SQS counts them
// (body and attributes), with today's default codec (brotli, base64 body) and with
// binaryPayload, for messages cut as under load at the default lingerMs and whole messages
// (lingerMs 2000 at a steady rate). Then what costs: the mark with no `seq` in the records, and
// `"seq":<n>` without the stream id.
//
// BENCH_RECORDS (default 20000) resizes a run. CPU only: no services.
import { randomBytes } from "node:crypto";
import { type Item, Packer } from "../middleware/message/packer.js";
import { serializeRecord } from "../shared/wire/record-json.js";
import { SQS_LEGACY_MAX_MESSAGE_BYTES } from "../shared/wire/sqs-limits.js";
import type { StreamMark } from "../shared/wire/stream.js";
import { realisticRecord } from "./realistic-record.js";

const RECORDS = Number(process.env.BENCH_RECORDS ?? 20_000);
/** Messages encoded first so that each packer's compression ratio settles, as in a running batcher. */
const WARM_UP = 12;

const streamId = randomBytes(16).toString("base64url");
const item = (json: string, n?: number): Item => ({ json, bytes: Buffer.byteLength(json), n });

/** Record `i` plain and numbered, from the same random content. */
function pair(i: number): [Item, Item] {
  const record = realisticRecord(i);
  return [
    item(serializeRecord(record)),
    item(serializeRecord({ ...record, seq: { stream: streamId, n: i + 1 } }), i + 1),
  ];
}

/** What each part costs: messages with the mark but records without `seq`, or `"seq":<n>` alone. */
const PARTS = [
  ["mark only, no `seq` in records", (item: Item) => item],
  ['mark, `"seq":<n>` without the stream id', (item: Item, n: number) => numberOnly(item, n)],
] as const;

function numberOnly(plain: Item, n: number): Item {
  return item(`${plain.json.slice(0, -1)},"seq":${n}}`, n);
}

interface Packed {
  messages: number;
  bytesPerRecord: number;
}

/**
 * Packs `items` as the batcher does (the packer's own group sizes, `whole` or not) and returns
 * the bytes per record SQS counts. `numbered`: every message carries the stream's mark, its
 * high-water mark the last record packed so far.
 */
async function pack(
  items: readonly Item[],
  warmUp: readonly Item[],
  numbered: boolean,
  binaryPayload: boolean,
  whole: boolean,
): Promise<Packed> {
  let hwm = 0;
  const stream = {
    mark: (): StreamMark => ({ id: streamId, hwm }),
    restate: () => undefined,
  };
  const packer = new Packer({
    maxMessageBytes: SQS_LEGACY_MAX_MESSAGE_BYTES,
    maxBatchBytes: SQS_LEGACY_MAX_MESSAGE_BYTES,
    compression: "br",
    maxRecordsPerMessage: 10_000,
    binaryPayload,
    ...(numbered ? { stream } : {}),
  });
  for (let i = 0; i < WARM_UP; i++) {
    await packer.encode(warmUp.slice(0, packer.groupSize(warmUp, 0, whole)));
  }
  let bytes = 0;
  let messages = 0;
  for (let from = 0; from < items.length; ) {
    const n = packer.groupSize(items, from, whole);
    hwm = from + n;
    const { envelopes, tooLarge } = await packer.encode(items.slice(from, from + n));
    if (tooLarge.length > 0) throw new Error(`${tooLarge.length} records too large`);
    for (const e of envelopes) bytes += e.bytes;
    messages += envelopes.length;
    from += n;
  }
  return { messages, bytesPerRecord: bytes / items.length };
}

const pairs = Array.from({ length: RECORDS }, (_, i) => pair(i));
const warm = Array.from({ length: 4000 }, (_, i) => pair(RECORDS + i));
const plain = pairs.map(([p]) => p);
const numbered = pairs.map(([, s]) => s);
const jsonBytes = (items: readonly Item[]) => items.reduce((n, i) => n + i.bytes, 0) / items.length;
console.log(
  `bench:wire-seq: ${RECORDS.toLocaleString("en")} records, ${jsonBytes(plain).toFixed(0)} B JSON each plain, ${jsonBytes(numbered).toFixed(0)} B numbered`,
);
console.log(
  "\n| messages cut as | payload | messages plain / numbered | B/record plain | B/record numbered | extra |",
);
console.log("|---|---|---:|---:|---:|---:|");
for (const [shape, whole] of [
  ["default lingerMs, under load", false],
  ["lingerMs 2000 (whole message)", true],
] as const) {
  for (const binaryPayload of [false, true]) {
    const a = await pack(
      plain,
      warm.map(([p]) => p),
      false,
      binaryPayload,
      whole,
    );
    const b = await pack(
      numbered,
      warm.map(([, s]) => s),
      true,
      binaryPayload,
      whole,
    );
    const extra = (b.bytesPerRecord / a.bytesPerRecord - 1) * 100;
    console.log(
      `| ${shape} | ${binaryPayload ? "binaryPayload" : "base64 body"} | ${a.messages} / ${b.messages} | ${a.bytesPerRecord.toFixed(1)} | ${b.bytesPerRecord.toFixed(1)} | ${extra.toFixed(2)} % |`,
    );
  }
}

console.log("\nWhat costs, base64 body: extra bytes against plain, numbered records' parts alone");
console.log("| messages cut as | variant | extra |");
console.log("|---|---|---:|");
for (const [shape, whole] of [
  ["default lingerMs, under load", false],
  ["lingerMs 2000 (whole message)", true],
] as const) {
  const a = await pack(
    plain,
    warm.map(([p]) => p),
    false,
    false,
    whole,
  );
  for (const [name, make] of PARTS) {
    const items = plain.map((p, i) => make(p, i + 1));
    const warmUp = warm.map(([p], i) => make(p, RECORDS + i + 1));
    const b = await pack(items, warmUp, true, false, whole);
    console.log(
      `| ${shape} | ${name} | ${((b.bytesPerRecord / a.bytesPerRecord - 1) * 100).toFixed(2)} % |`,
    );
  }
}

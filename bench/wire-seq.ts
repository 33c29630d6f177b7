// `npm run bench:wire-seq`: what sequence numbers cost on the wire (issue 21: ≤ 2 %). The same
// realistic records packed by the producer's Packer three times, side by side: as producers
// before version 2 sent them (no `seq`, no stream mark); numbered as now (every message carrying
// the stream's mark, which names its records' numbers as ranges, `"ns":[[from,to]]`); and
// numbered as before (each record's `"seq":{"stream":…,"n":…}` as its last key, the mark without
// `ns`). Bytes per record as SQS counts them (body and attributes), with today's default codec
// (brotli, base64 body) and with binaryPayload, for messages cut as under load at the default
// lingerMs and whole messages (lingerMs 2000 at a steady rate).
//
// BENCH_RECORDS (default 20000) resizes a run. CPU only: no services.
import { randomBytes } from "node:crypto";
import { withSeqJson } from "../middleware/message/numbering.js";
import { type Item, Packer } from "../middleware/message/packer.js";
import { serializeRecord } from "../shared/wire/record-json.js";
import { SQS_LEGACY_MAX_MESSAGE_BYTES } from "../shared/wire/sqs-limits.js";
import type { StreamMark } from "../shared/wire/stream.js";
import { realisticRecord } from "./realistic-record.js";

const RECORDS = Number(process.env.BENCH_RECORDS ?? 20_000);
/** Messages encoded first so that each packer's compression ratio settles, as in a running batcher. */
const WARM_UP = 12;

const streamId = randomBytes(16).toString("base64url");
const item = (json: string, n?: number, carriesSeq?: boolean): Item => ({
  json,
  bytes: Buffer.byteLength(json),
  n,
  carriesSeq,
});

type Layout = "plain" | "numbered" | "numbered, seq in records";
const LAYOUTS: readonly Layout[] = ["plain", "numbered", "numbered, seq in records"];

/** Record `i` in each layout, from the same random content. */
function variants(i: number): Record<Layout, Item> {
  const json = serializeRecord(realisticRecord(i));
  const n = i + 1;
  return {
    plain: item(json),
    numbered: item(json, n),
    "numbered, seq in records": item(withSeqJson(json, { stream: streamId, n }), n, true),
  };
}

interface Packed {
  messages: number;
  bytesPerRecord: number;
}

/**
 * Packs `items` as the batcher does (the packer's own group sizes, `whole` or not) and returns
 * the bytes per record SQS counts. `numbered`: every message carries the stream's mark, its
 * high-water mark the last record packed so far (and `ns` for records without their own `seq`).
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
    id: streamId,
    get hwm() {
      return hwm;
    },
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

const all = Array.from({ length: RECORDS }, (_, i) => variants(i));
const warm = Array.from({ length: 4000 }, (_, i) => variants(RECORDS + i));
const jsonBytes = (items: readonly Item[]) => items.reduce((n, i) => n + i.bytes, 0) / items.length;
console.log(
  `bench:wire-seq: ${RECORDS.toLocaleString("en")} records, JSON bytes each: ${LAYOUTS.map((l) => `${l} ${jsonBytes(all.map((v) => v[l])).toFixed(0)}`).join(", ")}`,
);
console.log(
  "\n| messages cut as | payload | messages plain / numbered / seq in records | B/record plain | numbered | seq in records | extra numbered | extra seq in records |",
);
console.log("|---|---|---:|---:|---:|---:|---:|---:|");
for (const [shape, whole] of [
  ["default lingerMs, under load", false],
  ["lingerMs 2000 (whole message)", true],
] as const) {
  for (const binaryPayload of [false, true]) {
    const [plain, numbered, old] = (await Promise.all(
      LAYOUTS.map((l) =>
        pack(
          all.map((v) => v[l]),
          warm.map((v) => v[l]),
          l !== "plain",
          binaryPayload,
          whole,
        ),
      ),
    )) as [Packed, Packed, Packed];
    const extra = (p: Packed) =>
      `${((p.bytesPerRecord / plain.bytesPerRecord - 1) * 100).toFixed(2)} %`;
    console.log(
      `| ${shape} | ${binaryPayload ? "binaryPayload" : "base64 body"} | ${plain.messages} / ${numbered.messages} / ${old.messages} | ${plain.bytesPerRecord.toFixed(1)} | ${numbered.bytesPerRecord.toFixed(1)} | ${old.bytesPerRecord.toFixed(1)} | ${extra(numbered)} | ${extra(old)} |`,
    );
  }
}

// What the record and value bounds cost: the pre-parse scan (scanJson) against the parse it
// guards (decodeBody), side by side in one process on the same envelope texts, synchronously
// (no threadpool in the measurement). Run: npx tsx bench/decode-bounds.ts
import { performance } from "node:perf_hooks";
import { ObjectId } from "bson";
import { DEFAULT_DECODE_LIMITS, decodeBody } from "../shared/wire/decoder.js";
import { envelopeBody } from "../shared/wire/envelope.js";
import { scanJson } from "../shared/wire/json-bounds.js";
import { serializeRecord } from "../shared/wire/record-json.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const MESSAGES = 20;
/** About 512 KiB of envelope text: what the producer packs into one compressed message. */
const RECORDS = 1800;

function record(i: number) {
  return {
    _id: new ObjectId(),
    v: 1,
    ts: new Date(),
    actor: { id: `user-${i % 13}`, ip: "10.0.0.1" },
    action: "GET /orders/:id",
    request: { method: "GET", path: `/orders/${i}`, route: "/orders/:id", query: { page: "2" } },
    outcome: { status: 200, durationMs: 1.5 },
  };
}

const texts = Array.from({ length: MESSAGES }, () =>
  envelopeBody(Array.from({ length: RECORDS }, (_, i) => serializeRecord(record(i)))),
);
const buffers = texts.map((t) => Buffer.from(t));

function timed(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

const ratios: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const parse = () => {
    for (const t of texts) decodeBody(t);
  };
  const scan = () => {
    for (const b of buffers) scanJson(b, DEFAULT_DECODE_LIMITS);
  };
  // Alternate which runs first, so that neither is always the warm one.
  let p: number;
  let s: number;
  if (r % 2 === 0) {
    p = timed(parse);
    s = timed(scan);
  } else {
    s = timed(scan);
    p = timed(parse);
  }
  ratios.push(s / p);
}
ratios.sort((x, y) => x - y);
console.log(
  JSON.stringify({
    messages: MESSAGES,
    bytesPerMessage: buffers[0]?.length,
    rounds: ROUNDS,
    scanOverParseMedian: Number(ratios[Math.floor(ratios.length / 2)]?.toFixed(3)),
    min: Number(ratios[0]?.toFixed(3)),
    max: Number(ratios[ratios.length - 1]?.toFixed(3)),
  }),
);

// Bench: which body codec to send. Realistic records packed into messages as the packer cuts
// them (default lingerMs under load, lingerMs 2000, and a trickle of 10 records), compressed
// with brotli, gzip and zstd at a few levels, with and without a dictionary where the codec takes
// one. Reports CPU µs per record to compress (producer) and decompress (sidecar) and bytes per
// record as SQS counts them, base64 in the body and raw with binaryPayload, against today's default.
//
//   npm run bench:codec               (AUDITQ_BENCH_RECORDS, AUDITQ_BENCH_ROUNDS to resize)
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import * as zlib from "node:zlib";
import { type Item, Packer, payloadMessageBytes } from "../middleware/message/packer.js";
import { MAX_DECODED_BODY_BYTES } from "../shared/wire/body-codec.js";
import { ATTR_ENCODING, ENVELOPE_ATTRIBUTES, envelopeBody } from "../shared/wire/envelope.js";
import { serializeRecord } from "../shared/wire/record-json.js";
import { messageBytes, SQS_LEGACY_MAX_MESSAGE_BYTES } from "../shared/wire/sqs-limits.js";
import { realisticRecord } from "./realistic-record.js";

const RECORDS = Number(process.env.AUDITQ_BENCH_RECORDS ?? 20_000);
const ROUNDS = Number(process.env.AUDITQ_BENCH_ROUNDS ?? 5);
const { constants: C } = zlib;

const items = (from: number, n: number): Item[] =>
  Array.from({ length: n }, (_, i) => {
    const json = serializeRecord(realisticRecord(from + i));
    return { json, bytes: Buffer.byteLength(json) };
  });

/** Record counts per message as the packer cuts them with today's default (brotli, base64). */
async function groupSizes(sample: Item[]): Promise<{ underLoad: number; whole: number }> {
  const packer = new Packer({
    maxMessageBytes: SQS_LEGACY_MAX_MESSAGE_BYTES,
    maxBatchBytes: SQS_LEGACY_MAX_MESSAGE_BYTES,
    compression: "br",
    maxRecordsPerMessage: 10_000,
  });
  // Its ratio starts pessimistic and converges as it sees messages, as in a running batcher.
  for (let i = 0; i < 12; i++) await packer.encode(sample.slice(0, packer.groupSize(sample, 0)));
  return {
    underLoad: packer.groupSize(sample, 0, false),
    whole: packer.groupSize(sample, 0, true),
  };
}

/** A raw-content dictionary: the text of records other than those measured, most recent last. */
function rawDictionary(sample: Item[], bytes: number): Buffer {
  const text = sample.map((i) => i.json).join(",");
  return Buffer.from(text.slice(Math.max(0, text.length - bytes)), "utf8");
}

/** A dictionary trained by the zstd CLI (`zstd --train`) on records, or undefined without it. */
function trainedDictionary(sample: Item[], bytes: number): Buffer | undefined {
  const dir = mkdtempSync(join(tmpdir(), "auditq-codec-"));
  try {
    const files = sample.map((item, i) => {
      const file = join(dir, `r${i}.json`);
      writeFileSync(file, item.json);
      return file;
    });
    const out = join(dir, "dict");
    execFileSync("zstd", ["-q", "--train", ...files, "-o", out, `--maxdict=${bytes}`], {
      stdio: "ignore",
    });
    return readFileSync(out);
  } catch (err) {
    // Without the CLI the trained variant is left out and the table says so.
    console.error(
      `zstd --train unavailable (${(err as Error).message}); trained dictionary skipped`,
    );
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Variant {
  name: string;
  compress: (input: Buffer) => Buffer;
  decompress: (input: Buffer) => Buffer;
}

function decodeOptions(compressed: Buffer) {
  const chunkSize = Math.min(1024 * 1024, Math.max(16 * 1024, compressed.length * 8));
  return { maxOutputLength: MAX_DECODED_BODY_BYTES, chunkSize };
}

function brotli(quality: number): Variant {
  return {
    name: `br q${quality}`,
    compress: (input) =>
      zlib.brotliCompressSync(input, {
        params: {
          [C.BROTLI_PARAM_QUALITY]: quality,
          [C.BROTLI_PARAM_MODE]: C.BROTLI_MODE_TEXT,
          [C.BROTLI_PARAM_SIZE_HINT]: input.length,
        },
      }),
    decompress: (input) => zlib.brotliDecompressSync(input, decodeOptions(input)),
  };
}

function gzip(level: number): Variant {
  return {
    name: `gzip ${level}`,
    compress: (input) => zlib.gzipSync(input, { level }),
    decompress: (input) => zlib.gunzipSync(input, decodeOptions(input)),
  };
}

function deflateDict(level: number, dictionary: Buffer, label: string): Variant {
  return {
    name: `deflate ${level} ${label}`,
    compress: (input) => zlib.deflateSync(input, { level, dictionary }),
    decompress: (input) => zlib.inflateSync(input, { ...decodeOptions(input), dictionary }),
  };
}

function zstd(level: number, dictionary?: Buffer, label = ""): Variant {
  const dict = dictionary ? { dictionary } : {};
  return {
    name: `zstd ${level}${label ? ` ${label}` : ""}`,
    compress: (input) =>
      zlib.zstdCompressSync(input, {
        ...dict,
        params: {
          [C.ZSTD_c_compressionLevel]: level,
          [C.ZSTD_c_checksumFlag]: 0,
          [C.ZSTD_c_contentSizeFlag]: 1,
        },
      }),
    decompress: (input) => zlib.zstdDecompressSync(input, { ...decodeOptions(input), ...dict }),
  };
}

/** CPU time of this thread (the codecs run synchronously here), in µs; the process's before 22.19. */
function cpuMicros(): number {
  const thread = (process as { threadCpuUsage?: () => NodeJS.CpuUsage }).threadCpuUsage;
  const usage = thread ? thread.call(process) : process.cpuUsage();
  return usage.user + usage.system;
}

interface Sample {
  compressUs: number[];
  decompressUs: number[];
  b64Bytes: number;
  binaryBytes: number;
}

function runVariant(
  v: Variant,
  messages: Buffer[],
  records: number,
  perMessage: number,
  sample: Sample,
): void {
  const outputs: Buffer[] = [];
  let t = cpuMicros();
  for (const m of messages) outputs.push(v.compress(m));
  sample.compressUs.push((cpuMicros() - t) / records);
  t = cpuMicros();
  for (const o of outputs) v.decompress(o);
  sample.decompressUs.push((cpuMicros() - t) / records);
  let b64 = 0;
  let bin = 0;
  const codec = v.name.split(" ")[0] as string;
  const attributes = {
    ...ENVELOPE_ATTRIBUTES,
    [ATTR_ENCODING]: { DataType: "String", StringValue: codec },
  };
  for (const o of outputs) {
    b64 += messageBytes(o.toString("base64"), attributes);
    // The data type names the codec (`Binary.br`); a zstd one is two characters longer.
    bin += payloadMessageBytes("br", perMessage, o.length) + codec.length - "br".length;
  }
  sample.b64Bytes = b64 / records;
  sample.binaryBytes = bin / records;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function main(): Promise<void> {
  const training = items(1_000_000, 2000);
  const measured = items(0, RECORDS);
  const sizes = await groupSizes(items(2_000_000, 4000));
  const rawDict = rawDictionary(training, 16 * 1024);
  const trained = trainedDictionary(training, 16 * 1024);
  const variants: Variant[] = [
    brotli(5),
    brotli(3),
    brotli(4),
    brotli(6),
    gzip(6),
    gzip(1),
    deflateDict(6, rawDict, "raw-dict"),
    zstd(1),
    zstd(2),
    zstd(3),
    zstd(4),
    zstd(5),
    zstd(6),
    zstd(3, rawDict, "raw-dict"),
    ...(trained ? [zstd(3, trained, "trained-dict"), zstd(1, trained, "trained-dict")] : []),
  ];
  const shapes: Array<[string, number]> = [
    ["default lingerMs, under load", sizes.underLoad],
    ["lingerMs 2000 (whole message)", sizes.whole],
    ["trickle (10 records)", 10],
  ];
  const load = loadavg().map((l) => l.toFixed(1));
  console.log(
    `node ${process.version}, zstd ${process.versions.zstd}; ${RECORDS} records (${Math.round(
      measured.reduce((n, i) => n + i.bytes, 0) / RECORDS,
    )} B JSON each), ${ROUNDS} rounds; load average at start ${load.join(" ")}`,
  );
  console.log(`dictionaries: raw ${rawDict.length} B, trained ${trained?.length ?? "n/a"} B`);
  for (const [shape, perMessage] of shapes) {
    const messages: Buffer[] = [];
    for (let i = 0; i < measured.length; i += perMessage) {
      messages.push(
        Buffer.from(envelopeBody(measured.slice(i, i + perMessage).map((r) => r.json)), "utf8"),
      );
    }
    const samples = new Map<string, Sample>(
      variants.map((v) => [
        v.name,
        { compressUs: [], decompressUs: [], b64Bytes: 0, binaryBytes: 0 },
      ]),
    );
    for (const v of variants)
      runVariant(v, messages.slice(0, 3), 1, perMessage, samples.get(v.name) as Sample);
    for (const s of samples.values()) Object.assign(s, { compressUs: [], decompressUs: [] });
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate the order every round, so drift in the machine's load spreads over all.
      const order = round % 2 ? [...variants].reverse() : variants;
      const rotated = order
        .slice(round % order.length)
        .concat(order.slice(0, round % order.length));
      for (const v of rotated)
        runVariant(v, messages, RECORDS, perMessage, samples.get(v.name) as Sample);
    }
    const base = samples.get("br q5") as Sample;
    console.log(`\n### ${shape}: ${perMessage} records per message, ${messages.length} messages`);
    console.log(
      "| codec | compress µs/rec | ×br5 | decompress µs/rec | ×br5 | B/rec base64 | ×br5 | B/rec binaryPayload | ×br5 |",
    );
    console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    const ratio = (a: number, b: number) => (a / b).toFixed(2);
    for (const v of variants) {
      const s = samples.get(v.name) as Sample;
      const [c, d, bc, bd] = [
        median(s.compressUs),
        median(s.decompressUs),
        median(base.compressUs),
        median(base.decompressUs),
      ];
      console.log(
        `| ${v.name} | ${c.toFixed(2)} | ${ratio(c, bc)} | ${d.toFixed(2)} | ${ratio(d, bd)} | ${s.b64Bytes.toFixed(1)} | ${ratio(s.b64Bytes, base.b64Bytes)} | ${s.binaryBytes.toFixed(1)} | ${ratio(s.binaryBytes, base.binaryBytes)} |`,
      );
    }
  }
  console.log(
    `\nload average at end ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}`,
  );
}

await main();

// `npm run bench:sidecar`: the sidecar draining a backlog, as an operator sees it, against a bare
// insertMany loop over the same records in the same run; then a burst at 10× a maxWriteRate.
//
// BENCH_ROUNDS (default 3) and BENCH_RECORDS (default 40000) shorten a run while iterating;
// BENCH_CPU_PROF_DIR=dir adds one profiled drain and writes its V8 CPU profile there.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliDecompressSync } from "node:zlib";
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { type Document, MongoClient } from "mongodb";
import { encodeBody } from "../shared/body-codec.js";
import { parseRelaxedEjson } from "../shared/ejson-parse.js";
import { type BodyEncoding, envelopeAttributes, envelopeBody } from "../shared/envelope.js";
import type { Logger } from "../shared/logger.js";
import { serializeRecord } from "../shared/record-json.js";
import { createSidecar, type SidecarOptions } from "../sidecar/index.js";
import { type CpuProfile, startCpuProfile, timeBySteps } from "./cpu-profile.js";
import { realisticRecord } from "./realistic-record.js";
import { SIDECAR_STEPS } from "./sidecar-steps.js";

const RECORDS = Number(process.env.BENCH_RECORDS ?? 40_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PER_MESSAGE = 500;
const BULK = 500;
const LANES = 4;
const BURST_RATE = 1_000;
const PROFILE_DIR = process.env.BENCH_CPU_PROF_DIR;

const quiet: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (o, m) => console.warn("warn:", m, o),
  error: (o, m) => console.error("error:", m, o),
};

/** The services' addresses: AUDITQ_TEST_SQS_ENDPOINT and _MONGODB_URI when set, as for tests. */
function services(): Record<string, string> {
  const { AUDITQ_TEST_SQS_ENDPOINT: sqs, AUDITQ_TEST_MONGODB_URI: mongo } = process.env;
  if (sqs && mongo) return { AUDITQ_TEST_SQS_ENDPOINT: sqs, AUDITQ_TEST_MONGODB_URI: mongo };
  const script = fileURLToPath(new URL("../scripts/services", import.meta.url));
  // `up` is a no-op when they already run; this bench never stops them.
  const out = execFileSync(script, ["up"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const env: Record<string, string> = {};
  for (const m of out.matchAll(/^export ([A-Z0-9_]+)=(.*)$/gm))
    env[m[1] as string] = m[2] as string;
  return env;
}

const uid = () => `${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const cpuUs = (since: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(since);
  return d.user + d.system;
};

/** The batcher's message bodies for `records`: envelopes of PER_MESSAGE, compressed. */
async function encodeMessages(records: readonly Document[], encoding: BodyEncoding) {
  const bodies: string[] = [];
  for (let i = 0; i < records.length; i += PER_MESSAGE) {
    const text = envelopeBody(records.slice(i, i + PER_MESSAGE).map((r) => serializeRecord(r)));
    bodies.push(await encodeBody(text, encoding));
  }
  return bodies;
}

async function fill(sqs: SQSClient, queueUrl: string, bodies: readonly string[]): Promise<void> {
  const MessageAttributes = envelopeAttributes("br");
  const calls: Promise<unknown>[] = [];
  for (let i = 0; i < bodies.length; i += 5) {
    const Entries = bodies
      .slice(i, i + 5)
      .map((MessageBody, j) => ({ Id: String(j), MessageBody, MessageAttributes }));
    calls.push(sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries })));
    if (calls.length >= 8) await Promise.all(calls.splice(0));
  }
  await Promise.all(calls);
}

interface Measured {
  seconds: number;
  cpuUsPerRecord: number;
}

/** A bare loop of unordered `insertMany` bulks of BULK, LANES in flight, as the sidecar's default. */
async function bareLoop(mongo: MongoClient, db: string, records: Document[]): Promise<Measured> {
  const coll = mongo.db(db).collection(`bare_${uid()}`);
  const bulks: Document[][] = [];
  for (let i = 0; i < records.length; i += BULK) bulks.push(records.slice(i, i + BULK));
  const cpu = process.cpuUsage();
  const start = performance.now();
  await Promise.all(
    Array.from({ length: LANES }, async () => {
      for (let bulk = bulks.shift(); bulk; bulk = bulks.shift()) {
        await coll.insertMany(bulk, {
          ordered: false,
          writeConcern: { w: "majority", journal: true },
        });
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const used = cpuUs(cpu);
  const stored = await coll.countDocuments();
  if (stored !== records.length) throw new Error(`bare loop stored ${stored}`);
  await coll.drop();
  return { seconds, cpuUsPerRecord: used / records.length };
}

interface Drain extends Measured {
  /** Records written so far, one entry per 100 ms sample. */
  samples: { t: number; written: number }[];
  /** Until the queue was empty (every delete done). */
  drainedSeconds: number;
  /** SQS requests per 1,000 records by operation, from the sidecar's own counters. */
  sqsPer1000: Record<string, number>;
  /** With `profile`: the main thread's CPU profile from start() to the last record written. */
  profile?: CpuProfile;
}

/** Queues `bodies` on a fresh queue, then runs a sidecar until every record is written. */
async function drain(
  env: Record<string, string>,
  mongo: MongoClient,
  db: string,
  bodies: readonly string[],
  n: number,
  options: Partial<SidecarOptions> = {},
  profile = false,
): Promise<Drain> {
  const sqs = new SQSClient({ endpoint: env.AUDITQ_TEST_SQS_ENDPOINT, region: "us-east-1" });
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `bench-${uid()}` }));
  const queueUrl = QueueUrl as string;
  await fill(sqs, queueUrl, bodies);
  const collection = `sidecar_${uid()}`;
  const sidecar = createSidecar({
    queueUrl,
    mongo,
    database: db,
    collection,
    sqs: { endpoint: env.AUDITQ_TEST_SQS_ENDPOINT, region: "us-east-1", maxAttempts: 1 },
    waitTimeSeconds: 1,
    bulkSize: BULK,
    indexes: [],
    logger: quiet,
    ...options,
  });
  const metric = async (name: string, labels = "") => {
    const text = await sidecar.registry.getSingleMetricAsString(name);
    const line = text.split("\n").find((l) => l.startsWith(`${name}${labels} `));
    return Number(line?.split(" ")[1] ?? 0);
  };
  const written = () => metric("auditq_sidecar_records_written_total");
  const stopProfile = profile ? await startCpuProfile() : undefined;
  const cpu = process.cpuUsage();
  const start = performance.now();
  await sidecar.start();
  const samples: Drain["samples"] = [];
  let seconds = 0;
  let used = 0;
  for (;;) {
    const w = await written();
    const t = (performance.now() - start) / 1000;
    samples.push({ t, written: w });
    if (w >= n) {
      seconds = t;
      used = cpuUs(cpu);
      break;
    }
    // The sampling itself is the bench's, not the sidecar's, but cheap: ~0.1 ms per 100 ms.
    if (t > 300) throw new Error(`only ${w} of ${n} records written after 300 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // Same window as the rate and the CPU time: from start() to the last record written.
  const cpuProfile = await stopProfile?.();
  for (;;) {
    const { Attributes: a } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    const left =
      Number(a?.ApproximateNumberOfMessages) + Number(a?.ApproximateNumberOfMessagesNotVisible);
    if (left === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const drainedSeconds = (performance.now() - start) / 1000;
  await sidecar.stop();
  const sqsPer1000: Record<string, number> = {};
  for (const op of ["ReceiveMessage", "DeleteMessageBatch", "ChangeMessageVisibilityBatch"]) {
    const billed = await metric("auditq_sidecar_sqs_billed_requests_total", `{operation="${op}"}`);
    sqsPer1000[op] = (billed / n) * 1000;
  }
  const stored = await mongo.db(db).collection(collection).countDocuments();
  if (stored !== n) throw new Error(`expected ${n} documents, found ${stored}`);
  await mongo.db(db).collection(collection).drop();
  await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
  sqs.destroy();
  return {
    seconds,
    cpuUsPerRecord: used / n,
    samples,
    drainedSeconds,
    sqsPer1000,
    ...(cpuProfile ? { profile: cpuProfile } : {}),
  };
}

/** Single-threaded costs of the decode steps on the same bodies, µs per record. */
function decodeSteps(bodies: readonly string[], n: number): Record<string, number> {
  const t0 = performance.now();
  const texts = bodies.map((b) => brotliDecompressSync(Buffer.from(b, "base64")).toString("utf8"));
  const t1 = performance.now();
  for (const text of texts) parseRelaxedEjson(text);
  const t2 = performance.now();
  return { "base64 + brotli + utf8": ((t1 - t0) * 1000) / n, parse: ((t2 - t1) * 1000) / n };
}

async function profiledDrain(
  env: Record<string, string>,
  mongo: MongoClient,
  db: string,
  bodies: readonly string[],
  dir: string,
): Promise<void> {
  const run = await drain(env, mongo, db, bodies, RECORDS, {}, true);
  const profile = run.profile as CpuProfile;
  const file = join(dir, `sidecar-drain-${uid()}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  const steps = [...timeBySteps(profile, SIDECAR_STEPS)].sort((a, b) => b[1] - a[1]);
  const total = steps.reduce((sum, [, ms]) => sum + ms, 0);
  console.log(
    `\nProfiled drain (${file}): ${RECORDS} records in ${run.seconds.toFixed(2)} s, main thread by step, µs per record (profiler on):`,
  );
  for (const [step, ms] of steps) {
    console.log(
      `  ${step.padEnd(34)} ${((ms * 1000) / RECORDS).toFixed(2).padStart(7)} µs  ${((ms / total) * 100).toFixed(1).padStart(5)} %`,
    );
  }
}

async function burst(env: Record<string, string>, mongo: MongoClient, db: string) {
  const n = BURST_RATE * 10;
  console.log(`\nBurst: ${n} records queued at once (10× maxWriteRate=${BURST_RATE}/s for 1 s)`);
  const records = Array.from({ length: n }, (_, i) => realisticRecord(i));
  // Bulks of 100, so that a 100 ms sample sees the rate and not the bulk granularity.
  const run = await drain(env, mongo, db, await encodeMessages(records, "br"), n, {
    maxWriteRate: BURST_RATE,
    bulkSize: 100,
  });
  // Steady state: from the first second (the bucket's initial burst) to the last write.
  const from = run.samples.find((s) => s.t >= 1) ?? run.samples[0];
  const last = run.samples.at(-1);
  if (from === undefined || last === undefined) throw new Error("no samples");
  const steady = (last.written - from.written) / (last.t - from.t);
  let peak = 0;
  for (const s of run.samples) {
    const later = run.samples.find((x) => x.t >= s.t + 1);
    if (later) peak = Math.max(peak, (later.written - s.written) / (later.t - s.t));
  }
  console.log(
    `  observed write rate ${steady.toFixed(0)} records/s (${((steady / BURST_RATE - 1) * 100).toFixed(1)} % from the cap), busiest 1 s window ${peak.toFixed(0)} records/s`,
  );
  console.log(
    `  overall ${(n / run.seconds).toFixed(0)} records/s; backlog drained (queue empty) after ${run.drainedSeconds.toFixed(1)} s`,
  );
}

async function main(): Promise<void> {
  const env = services();
  for (const name of ["AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]) {
    process.env[name] ??= env[name];
  }
  const mongo = new MongoClient(env.AUDITQ_TEST_MONGODB_URI as string);
  await mongo.connect();
  const db = `auditq_bench_${uid()}`;
  try {
    const records = Array.from({ length: RECORDS }, (_, i) => realisticRecord(i)) as Document[];
    const bodies = await encodeMessages(records, "br");
    const bytes = records.reduce((sum, r) => sum + serializeRecord(r).length, 0) / RECORDS;
    console.log(
      `Sidecar drain: ${RECORDS} records (${bytes.toFixed(0)} B each as relaxed Extended JSON), brotli envelopes of ${PER_MESSAGE}, queued before timing; bulks of ${BULK}; ${ROUNDS} rounds, order alternating\n`,
    );
    const rows: { bare: Measured; sidecar: Drain }[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      // Alternate the order, so that neither side always runs on a warmer or busier machine.
      let bare: Measured | undefined;
      if (round % 2 === 1) bare = await bareLoop(mongo, db, records);
      const sidecar = await drain(env, mongo, db, bodies, RECORDS);
      bare ??= await bareLoop(mongo, db, records);
      rows.push({ bare, sidecar });
      const s = sidecar;
      console.log(
        `  round ${round}: bare loop ${(RECORDS / bare.seconds).toFixed(0)} records/s, ${bare.cpuUsPerRecord.toFixed(1)} µs CPU/record; sidecar ${(RECORDS / s.seconds).toFixed(0)} records/s (${(bare.seconds / s.seconds).toFixed(2)}×), ${s.cpuUsPerRecord.toFixed(1)} µs CPU/record (${(s.cpuUsPerRecord / bare.cpuUsPerRecord).toFixed(2)}×); queue empty after ${s.drainedSeconds.toFixed(1)} s; SQS billed per 1,000: ${Object.entries(
          s.sqsPer1000,
        )
          .map(([op, v]) => `${op} ${v.toFixed(2)}`)
          .join(", ")}`,
      );
    }
    const rate = median(rows.map((r) => r.bare.seconds / r.sidecar.seconds));
    const cpu = median(rows.map((r) => r.sidecar.cpuUsPerRecord / r.bare.cpuUsPerRecord));
    console.log(
      `  median: sidecar ${median(rows.map((r) => RECORDS / r.sidecar.seconds)).toFixed(0)} records/s vs bare ${median(rows.map((r) => RECORDS / r.bare.seconds)).toFixed(0)}; rate ratio ${rate.toFixed(2)}× (target ≥ 0.9), CPU ratio ${cpu.toFixed(2)}× (target ≤ 1.5)`,
    );
    const steps = decodeSteps(bodies, RECORDS);
    console.log(
      `  decode steps alone (one thread): ${Object.entries(steps)
        .map(([k, v]) => `${k} ${v.toFixed(2)} µs/record`)
        .join(", ")}`,
    );
    if (PROFILE_DIR) await profiledDrain(env, mongo, db, bodies, PROFILE_DIR);
    await burst(env, mongo, db);
  } finally {
    await mongo.db(db).dropDatabase();
    await mongo.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

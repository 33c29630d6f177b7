// `npm run bench:sidecar`: the sidecar draining a backlog, as an operator sees it, against a bare
// insertMany loop over the same documents in the same run; then a burst at 10× a maxWriteRate.
//
// BENCH_ROUNDS (default 3) and BENCH_RECORDS (default 40000) shorten a run while iterating,
// BENCH_BURST=0 leaves the burst out; BENCH_STREAMS (default 4) is the number of producer
// streams the messages come from (0: records without `seq`, envelopes without a stream mark);
// BENCH_LEGS adds drains to every round, comma-separated (same bodies, order alternating):
// `fixed` (adaptiveConcurrency off), `no-digests` (digests off); BENCH_TRACE=1 prints each leg's
// MongoDB round trips by kind (count, summed send-to-reply time, documents) and the CPU seconds
// the local services used;
// BENCH_CPU_PROF_DIR=dir adds one profiled drain and one profiled bare loop, writes their V8 CPU
// profiles there and prints where each one's time went, step by step, side by side.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Document, MongoClient } from "mongodb";
import { decodeMeasured, type MeasuredBody, measureMessage } from "../shared/wire/decoder.js";
import { envelopeAttributes } from "../shared/wire/envelope.js";
import { serializeRecord } from "../shared/wire/record-json.js";
import type { SidecarOptions } from "../sidecar/index.js";
import { type CpuProfile, timeBySteps } from "./cpu-profile.js";
import { formatTallies, servicesCpu, tallyCommands } from "./mongo-commands.js";
import { realisticRecord } from "./realistic-record.js";
import { services } from "./services.js";
import {
  BULK,
  bareLoop,
  type Drain,
  decodedDocuments,
  drain,
  encodeMessages,
  LANES,
  type Measured,
  PER_MESSAGE,
  uid,
} from "./sidecar-drain.js";
import { SIDECAR_STEPS } from "./sidecar-steps.js";

const RECORDS = Number(process.env.BENCH_RECORDS ?? 40_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BURST_RATE = 1_000;
const PROFILE_DIR = process.env.BENCH_CPU_PROF_DIR;
const TRACE = process.env.BENCH_TRACE === "1";
const STREAMS = Number(process.env.BENCH_STREAMS ?? 4);
/** The extra drains BENCH_LEGS can add to every round, each a change of the sidecar's options. */
const LEG_OPTIONS = {
  fixed: { adaptiveConcurrency: false },
  "no-digests": { digests: false },
} satisfies Record<string, Partial<SidecarOptions>>;
type Leg = keyof typeof LEG_OPTIONS;
const LEGS = (process.env.BENCH_LEGS ?? "")
  .split(",")
  .filter((l) => l !== "")
  .map((l) => {
    if (!(l in LEG_OPTIONS)) throw new Error(`BENCH_LEGS: unknown leg ${l}`);
    return l as Leg;
  });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/**
 * CPU cost of the decode steps alone on the same bodies, µs per record: decompression and the
 * bound scan (`measureMessage`, brotli on the threadpool counted), then the parse.
 */
async function decodeSteps(bodies: readonly string[], n: number): Promise<Record<string, number>> {
  const MessageAttributes = envelopeAttributes("br");
  const c0 = process.cpuUsage();
  const measured: MeasuredBody[] = [];
  for (const Body of bodies) measured.push(await measureMessage({ Body, MessageAttributes }));
  const c1 = process.cpuUsage();
  for (const m of measured) decodeMeasured(m);
  const c2 = process.cpuUsage();
  const us = (from: NodeJS.CpuUsage, to: NodeJS.CpuUsage) =>
    (to.user - from.user + to.system - from.system) / n;
  return { "decompress + bound scan": us(c0, c1), parse: us(c1, c2) };
}

/** Main-thread µs per record by step: the profile's samples, attributed by SIDECAR_STEPS. */
function byStep(profile: CpuProfile, n: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const [step, ms] of timeBySteps(profile, SIDECAR_STEPS)) out.set(step, (ms * 1000) / n);
  return out;
}

/** One more drain and one more bare loop, profiled; their steps side by side. */
async function profiled(
  sqsEndpoint: string,
  mongo: MongoClient,
  db: string,
  bodies: readonly string[],
  docs: readonly Document[],
  dir: string,
): Promise<void> {
  const bare = await bareLoop(mongo, db, docs, true);
  const run = await drain(sqsEndpoint, mongo, db, bodies, RECORDS, {}, true);
  const files: string[] = [];
  for (const [name, p] of [
    ["bare-loop", bare.profile],
    ["sidecar-drain", run.profile],
  ] as const) {
    const file = join(dir, `${name}-${uid()}.cpuprofile`);
    writeFileSync(file, JSON.stringify(p));
    files.push(file);
  }
  const b = byStep(bare.profile as CpuProfile, RECORDS);
  const s = byStep(run.profile as CpuProfile, RECORDS);
  const busy = (m: Map<string, number>) => {
    let sum = 0;
    for (const [step, us] of m) if (step !== "(idle)" && !step.startsWith("(profiler")) sum += us;
    return sum;
  };
  console.log(
    `\nProfiled (${files.join(", ")}): main thread, µs per record by step (profiler on; idle and the profiler itself left out of "busy"):`,
  );
  console.log(
    `  ${"step".padEnd(40)} ${"bare".padStart(7)} ${"sidecar".padStart(8)} ${"diff".padStart(7)}`,
  );
  const steps = [...new Set([...s.keys(), ...b.keys()])].sort(
    (x, y) => (s.get(y) ?? 0) - (s.get(x) ?? 0),
  );
  for (const step of [...steps, "busy"]) {
    const bu = step === "busy" ? busy(b) : (b.get(step) ?? 0);
    const su = step === "busy" ? busy(s) : (s.get(step) ?? 0);
    console.log(
      `  ${step.padEnd(40)} ${bu.toFixed(2).padStart(7)} ${su.toFixed(2).padStart(8)} ${(su - bu).toFixed(2).padStart(7)}`,
    );
  }
}

async function burst(sqsEndpoint: string, mongo: MongoClient, db: string) {
  const n = BURST_RATE * 10;
  console.log(`\nBurst: ${n} records queued at once (10× maxWriteRate=${BURST_RATE}/s for 1 s)`);
  const records = Array.from({ length: n }, (_, i) => realisticRecord(i));
  // Bulks of 100, so that a 100 ms sample sees the rate and not the bulk granularity.
  const run = await drain(sqsEndpoint, mongo, db, await encodeMessages(records, "br", STREAMS), n, {
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
  const mongo = new MongoClient(env.AUDITQ_TEST_MONGODB_URI as string, {
    monitorCommands: TRACE,
  });
  /** Runs one leg; with BENCH_TRACE=1, prints its round trips and the services' CPU. */
  const leg = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    if (!TRACE) return run();
    const stop = tallyCommands(mongo);
    const cpu0 = servicesCpu();
    const result = await run();
    const cpu = [...servicesCpu()]
      .map(([service, s]) => `${service} ${(s - (cpu0.get(service) ?? 0)).toFixed(2)} s`)
      .join(", ");
    console.log(`    ${name}: round trips ${formatTallies(stop())}; services' CPU ${cpu}`);
    return result;
  };
  await mongo.connect();
  const db = `auditq_bench_${uid()}`;
  const sqsEndpoint = env.AUDITQ_TEST_SQS_ENDPOINT as string;
  try {
    const records = Array.from({ length: RECORDS }, (_, i) => realisticRecord(i)) as Document[];
    const bodies = await encodeMessages(records, "br", STREAMS);
    const docs = await decodedDocuments(bodies);
    const bytes = records.reduce((sum, r) => sum + serializeRecord(r).length, 0) / RECORDS;
    console.log(
      `Sidecar drain: ${RECORDS} records (${bytes.toFixed(0)} B each as relaxed Extended JSON), brotli envelopes of ${PER_MESSAGE} from ${STREAMS} producer streams, queued before timing; both sides warmed up once, then: bulks of ${BULK}, ${LANES} in flight, unordered, the same MongoClient and write concern; ${ROUNDS} rounds, order alternating\n`,
    );
    // Untimed, both sides once: otherwise round 1's bare loop runs on cold driver code and
    // warms it for the sidecar, which flattered round 1's ratio by about 0.6.
    const warm = Math.min(RECORDS, 10 * PER_MESSAGE);
    await bareLoop(mongo, db, docs.slice(0, warm));
    await drain(sqsEndpoint, mongo, db, bodies.slice(0, warm / PER_MESSAGE), warm);
    const rows: { bare: Measured; sidecar: Drain; legs: Map<Leg, Drain> }[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      // Alternate the order, so that neither side always runs on a warmer or busier machine.
      const legs = new Map<Leg, Drain>();
      const runLegs = async (order: readonly Leg[]) => {
        for (const name of order) {
          const options = LEG_OPTIONS[name];
          legs.set(
            name,
            await leg(name, () => drain(sqsEndpoint, mongo, db, bodies, RECORDS, options)),
          );
        }
      };
      let bare: Measured | undefined;
      const bareLeg = () => leg("bare loop", () => bareLoop(mongo, db, docs));
      if (round % 2 === 1) bare = await bareLeg();
      else await runLegs([...LEGS].reverse());
      const sidecar = await leg("sidecar", () => drain(sqsEndpoint, mongo, db, bodies, RECORDS));
      bare ??= await bareLeg();
      if (round % 2 === 1) await runLegs(LEGS);
      rows.push({ bare, sidecar, legs });
      const s = sidecar;
      const services = (m: Measured) =>
        [...m.servicesUsPerRecord].map(([k, v]) => `${k} ${v.toFixed(1)}`).join(", ");
      const extra = [...legs]
        .map(
          ([leg, d]) =>
            `; ${leg} ${(RECORDS / d.seconds).toFixed(0)} records/s (${(bare.seconds / d.seconds).toFixed(2)}×), ${d.cpuUsPerRecord.toFixed(1)} µs CPU/record, services' ${services(d)}`,
        )
        .join("");
      console.log(
        `  round ${round}: bare loop ${(RECORDS / bare.seconds).toFixed(0)} records/s, ${bare.cpuUsPerRecord.toFixed(1)} µs CPU/record; sidecar ${(RECORDS / s.seconds).toFixed(0)} records/s (${(bare.seconds / s.seconds).toFixed(2)}×), ${s.cpuUsPerRecord.toFixed(1)} µs CPU/record (${(s.cpuUsPerRecord / bare.cpuUsPerRecord).toFixed(2)}×), concurrency limit changed ${s.limitChanges} times; queue empty after ${s.drainedSeconds.toFixed(1)} s; SQS billed per 1,000: ${Object.entries(
          s.sqsPer1000,
        )
          .map(([op, v]) => `${op} ${v.toFixed(2)}`)
          .join(
            ", ",
          )}${extra}; services' CPU µs/record: bare loop ${services(bare)}; sidecar ${services(s)}`,
      );
    }
    const rate = median(rows.map((r) => r.bare.seconds / r.sidecar.seconds));
    const cpu = median(rows.map((r) => r.sidecar.cpuUsPerRecord / r.bare.cpuUsPerRecord));
    console.log(
      `  median: sidecar ${median(rows.map((r) => RECORDS / r.sidecar.seconds)).toFixed(0)} records/s vs bare ${median(rows.map((r) => RECORDS / r.bare.seconds)).toFixed(0)}; rate ratio ${rate.toFixed(2)}× (target ≥ 0.9), CPU ratio ${cpu.toFixed(2)}× (target ≤ 1.5); limit changes per drain ${median(rows.map((r) => r.sidecar.limitChanges))}`,
    );
    for (const leg of LEGS) {
      const ratios = rows.flatMap((r) => {
        const d = r.legs.get(leg);
        return d ? [r.bare.seconds / d.seconds] : [];
      });
      console.log(`  median rate ratio of ${leg}: ${median(ratios).toFixed(2)}×`);
    }
    const steps = await decodeSteps(bodies, RECORDS);
    console.log(
      `  decode steps alone (CPU, all threads): ${Object.entries(steps)
        .map(([k, v]) => `${k} ${v.toFixed(2)} µs/record`)
        .join(", ")}`,
    );
    if (PROFILE_DIR) await profiled(sqsEndpoint, mongo, db, bodies, docs, PROFILE_DIR);
    if (process.env.BENCH_BURST !== "0") await burst(sqsEndpoint, mongo, db);
  } finally {
    await mongo.db(db).dropDatabase();
    await mongo.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

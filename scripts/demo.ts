// `npm run demo`: local services, an Express app with auditq, the sidecar CLI with a write cap,
// a burst of requests at ten times that cap, and what happened: sampled from the app's and the
// sidecar's /metrics four times a second, drawn in the terminal and in demo-report.html, and an
// exact count of what reached MongoDB; then the audit viewer on those records until Ctrl-C
// (not with --no-viewer, outside a terminal, or in CI).
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  SQSClient,
} from "@aws-sdk/client-sqs";
import autocannon from "autocannon";
import express from "express";
import { MongoClient } from "mongodb";
import { auditq } from "../middleware/index.js";
import { decodeMessage } from "../shared/wire/decoder.js";
import {
  chartData,
  type DemoEvent,
  drainedAt,
  RATE_WINDOW_S,
  terminalChart,
} from "./demo/chart.js";
import { startSampler } from "./demo/metrics.js";
import { htmlReport } from "./demo/report.js";
import { showViewer, viewerWanted } from "./demo/viewer.js";

/** The sidecar's write budget, `maxWriteRate`, in records per second. */
const WRITE_RATE = Number(process.env.DEMO_WRITE_RATE ?? 100);
/** The burst: ten times the write budget, for this many seconds. */
const BURST_S = Number(process.env.DEMO_BURST_S ?? 3);
const BURST_RATE = WRITE_RATE * 10;
const REQUESTS = BURST_RATE * BURST_S;
const SAMPLE_EVERY_MS = 250;
const REDELIVERED = 5;
const REPORT = process.env.DEMO_REPORT ?? "demo-report.html";
const root = fileURLToPath(new URL("..", import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function servicesEnv(): Record<string, string> {
  if (process.env.AUDITQ_TEST_SQS_ENDPOINT && process.env.AUDITQ_TEST_MONGODB_URI) {
    return {
      AUDITQ_TEST_SQS_ENDPOINT: process.env.AUDITQ_TEST_SQS_ENDPOINT,
      AUDITQ_TEST_MONGODB_URI: process.env.AUDITQ_TEST_MONGODB_URI,
    };
  }
  console.log("Starting local FerretDB and ElasticMQ (the first run builds them)...");
  const out = execFileSync(`${root}scripts/services`, ["up"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  return Object.fromEntries(
    [...out.matchAll(/^export ([A-Z0-9_]+)=(.*)$/gm)].map((m) => [
      m[1],
      m[2]?.replace(/^'|'$/g, ""),
    ]),
  );
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  server.close();
  return port;
}

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(" ")[1]) : 0;
}

async function main() {
  const env = servicesEnv();
  const endpoint = env.AUDITQ_TEST_SQS_ENDPOINT as string;
  const mongoUri = env.AUDITQ_TEST_MONGODB_URI as string;
  const region = process.env.AWS_REGION ?? "us-east-1";
  const credentials = {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? "local",
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? "local",
  };
  const sqs = new SQSClient({ endpoint, region, credentials });
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: `auditq-demo-${Date.now()}` }),
  );
  const queueUrl = QueueUrl as string;
  const database = `auditq_demo_${Date.now()}`;
  console.log(`Queue ${queueUrl}, database ${database}`);

  const metricsPort = await freePort();
  console.log(`Starting the sidecar (auditq-sidecar), capped at ${WRITE_RATE} records/s...`);
  const sidecar: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", `${root}sidecar/cli/cli.ts`],
    {
      cwd: root,
      stdio: ["ignore", "ignore", "inherit"],
      env: {
        ...process.env,
        AWS_REGION: region,
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        AWS_ENDPOINT_URL_SQS: endpoint,
        AUDITQ_QUEUE_URL: queueUrl,
        AUDITQ_MONGODB_URI: mongoUri,
        AUDITQ_DATABASE: database,
        AUDITQ_METRICS_PORT: String(metricsPort),
        AUDITQ_MAX_WRITE_RATE: String(WRITE_RATE),
        // Small bulks, several a second: a smooth write line at this low cap.
        AUDITQ_BULK_SIZE: String(Math.max(1, Math.round(WRITE_RATE / 10))),
        AUDITQ_LOG_LEVEL: "warn",
      },
    },
  );
  const sidecarMetrics = `http://127.0.0.1:${metricsPort}/metrics`;
  const readyz = `http://127.0.0.1:${metricsPort}/readyz`;
  await waitFor(async () => (await fetch(readyz)).ok, 120_000, "the sidecar to be ready");

  // SQS delivers at least once. To show that a redelivery is stored once, the app's client keeps
  // a copy of the first messages it sends; they go to the queue a second time after the burst.
  const appSqs = new SQSClient({ endpoint, region, credentials });
  const kept: SendMessageBatchRequestEntry[] = [];
  appSqs.middlewareStack.add(
    (next) => async (args) => {
      const entries = (args.input as { Entries?: typeof kept }).Entries ?? [];
      for (const e of entries) if (kept.length < REDELIVERED) kept.push(e);
      return next(args);
    },
    { step: "initialize", name: "demoKeepCopies" },
  );

  // The web app: auditq in one line, a fake login, two routes, and its own /metrics.
  const audit = auditq({ queueUrl, sqs: appSqs });
  const app = express();
  app.get("/metrics", async (_req, res) => {
    res.type(audit.registry.contentType).send(await audit.registry.metrics());
  });
  app.use(audit);
  app.use((req, _res, next) => {
    (req as express.Request & { user?: { id: string } }).user = {
      id: `user-${Math.floor(Math.random() * 20)}`,
    };
    next();
  });
  app.get("/orders/:id", (req, res) => {
    res.json({ id: req.params.id });
  });
  app.post("/orders/:id/cancel", (_req, res) => {
    res.status(204).end();
  });
  const server = app.listen(0, "127.0.0.1");
  await once(server, "listening");
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const sampler = startSampler(`${base}/metrics`, sidecarMetrics, SAMPLE_EVERY_MS);
  const events: DemoEvent[] = [];
  await sleep(1000); // a quiet second before the burst
  events.push({ t: sampler.elapsed(), label: "burst starts" });
  console.log(
    `Burst: ${REQUESTS} requests at ${BURST_RATE}/s (10x the write cap) for ${BURST_S} s...`,
  );
  let n = 0;
  const burst = await autocannon({
    url: base,
    connections: 20,
    amount: REQUESTS,
    overallRate: BURST_RATE,
    requests: [
      {
        setupRequest: (req) => {
          const i = n++;
          return i % 3 === 0
            ? { ...req, method: "POST", path: `/orders/${i}/cancel` }
            : { ...req, method: "GET", path: `/orders/${i}` };
        },
      },
    ],
  });
  events.push({ t: sampler.elapsed(), label: "burst ends" });
  const answered = burst["2xx"];
  console.log(
    `  ${answered} requests answered (2xx) in ${(burst.duration).toFixed(1)} s, ${burst.non2xx + burst.errors} failed`,
  );
  await audit.flush();

  let dupeRecords = 0;
  for (const m of kept) {
    dupeRecords += (
      await decodeMessage({ Body: m.MessageBody, MessageAttributes: m.MessageAttributes })
    ).length;
  }
  if (kept.length > 0) {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: kept.map((m, i) => ({ ...m, Id: String(i) })),
      }),
    );
    events.push({
      t: sampler.elapsed(),
      label: `${kept.length} messages re-sent (as a redelivery)`,
    });
  }
  console.log(
    `Sent ${kept.length} of those messages (${dupeRecords} records) again, as an SQS redelivery would.`,
  );

  console.log("Waiting for the sidecar to drain the queue at its cap...");
  const drainMs = 120_000 + (REQUESTS / WRITE_RATE) * 2000;
  await waitFor(
    async () => {
      const last = sampler.last();
      return last !== undefined && last.written >= answered && last.queueMessages === 0;
    },
    drainMs,
    "the queue to drain",
  ).catch((err: unknown) => console.error(err instanceof Error ? err.message : err));
  await sleep(1000); // a quiet second after it
  await sampler.stop();
  await audit.close();
  server.close();

  const mongo = new MongoClient(mongoUri);
  const records = mongo.db(database).collection("records");
  const count = await records.countDocuments();
  const duplicates = await metric(metricsPort, "auditq_sidecar_records_duplicate_total");
  sidecar.kill("SIGTERM");
  await once(sidecar, "exit");

  const data = chartData(sampler.samples, WRITE_RATE, events);
  const peakWrites = Math.max(0, ...data.writes);
  const drained = drainedAt(data);
  const summary = [
    `Burst: ${answered} requests at up to ${Math.round(Math.max(0, ...data.incoming))} requests/s; sidecar write cap ${WRITE_RATE} records/s.`,
    `MongoDB writes peaked at ${peakWrites.toFixed(0)} records/s (rates over ${RATE_WINDOW_S} s windows, sampled every ${SAMPLE_EVERY_MS} ms from /metrics).`,
    `Queue backlog peaked at ${Math.max(0, ...data.backlog)} records; ${drained === undefined ? "not drained while sampled" : `drained ${drained.toFixed(0)} s after the start`}.`,
    `Requests answered: ${answered}; records in MongoDB: ${count}; duplicate deliveries skipped: ${duplicates}.`,
  ];
  writeFileSync(REPORT, htmlReport(data, summary));
  console.log(`\n${terminalChart(data)}\n`);
  const sample = await records.findOne({}, { sort: { _id: 1 } });
  console.log("One stored record:");
  console.log(JSON.stringify(sample, null, 2));
  console.log(`\nRequests answered:             ${answered}`);
  console.log(`Records in MongoDB:            ${count}`);
  console.log(`Duplicate records skipped:     ${duplicates} (${dupeRecords} redelivered)`);
  console.log(
    `Peak MongoDB writes:           ${peakWrites.toFixed(0)} records/s (cap ${WRITE_RATE})`,
  );
  if (sampler.errors.length > 0)
    console.log(`Failed metric scrapes:         ${sampler.errors.length}`);
  console.log(
    count === answered ? "Every request recorded exactly once." : "MISMATCH: see the logs above.",
  );
  console.log(`Chart written to ${REPORT}.`);
  if (viewerWanted()) await showViewer(mongoUri, database);

  await mongo.db(database).dropDatabase();
  await mongo.close();
  await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
  sqs.destroy();
  appSqs.destroy();
  console.log("\nThe local services keep running; `scripts/services down` stops them.");
  if (count !== answered || answered !== REQUESTS) process.exitCode = 1;
}

/** Polls `check` until it holds or `timeoutMs` passes. */
async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // Not up yet (connection refused): the deadline decides.
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(SAMPLE_EVERY_MS);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});

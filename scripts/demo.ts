// `npm run demo`: local services, an Express app with auditq, the sidecar CLI, a few thousand
// requests, and a count of what reached MongoDB.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import express from "express";
import { MongoClient } from "mongodb";
import { auditq } from "../middleware/index.js";

const REQUESTS = Number(process.env.DEMO_REQUESTS ?? 3000);
const CONCURRENCY = 50;
const REDELIVERED = 5;
const root = fileURLToPath(new URL("..", import.meta.url));

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

  // The web app: auditq in one line, a fake login, two routes.
  const audit = auditq({ queueUrl, sqs });
  const app = express();
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

  console.log(`Sending ${REQUESTS} requests to the app...`);
  const started = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS) {
        const i = next++;
        const res =
          i % 3 === 0
            ? await fetch(`${base}/orders/${i}/cancel`, { method: "POST" })
            : await fetch(`${base}/orders/${i}`);
        await res.arrayBuffer();
      }
    }),
  );
  console.log(`  done in ${Date.now() - started} ms; flushing auditq's buffer to SQS`);
  await audit.close();
  server.close();

  // SQS delivers at least once: simulate a redelivery by putting copies of a few messages back.
  const copies = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: REDELIVERED,
      VisibilityTimeout: 0,
      MessageAttributeNames: ["All"],
    }),
  );
  const dupes = copies.Messages ?? [];
  if (dupes.length > 0) {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: dupes.map((m, i) => ({
          Id: String(i),
          MessageBody: m.Body,
          MessageAttributes: m.MessageAttributes,
        })),
      }),
    );
  }
  console.log(`Put ${dupes.length} duplicate messages on the queue, as an SQS redelivery would.`);

  const metricsPort = await freePort();
  console.log("Starting the sidecar (auditq-sidecar) as its own process...");
  const sidecar: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", `${root}sidecar/cli.ts`],
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
        AUDITQ_LOG_LEVEL: "warn",
      },
    },
  );

  const mongo = new MongoClient(mongoUri);
  const records = mongo.db(database).collection("records");
  const deadline = Date.now() + 120_000;
  let count = 0;
  let queued = Number.POSITIVE_INFINITY;
  while ((count < REQUESTS || queued > 0) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    count = await records.countDocuments();
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    queued =
      Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
  }
  const duplicates = await metric(metricsPort, "auditq_sidecar_records_duplicate_total");
  sidecar.kill("SIGTERM");
  await once(sidecar, "exit");

  const sample = await records.findOne({}, { sort: { _id: 1 } });
  console.log("\nOne stored record:");
  console.log(JSON.stringify(sample, null, 2));
  console.log(`\nRequests sent:                 ${REQUESTS}`);
  console.log(`Records in MongoDB:            ${count}`);
  console.log(`Duplicate deliveries skipped:  ${duplicates}`);
  console.log(
    count === REQUESTS ? "Every request recorded exactly once." : "MISMATCH: see the logs above.",
  );

  await mongo.db(database).dropDatabase();
  await mongo.close();
  await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
  sqs.destroy();
  console.log("\nThe local services keep running; `scripts/services down` stops them.");
  if (count !== REQUESTS) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});

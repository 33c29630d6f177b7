// The producers and consumers of bench:anchors, one per child process. The same records go
// through three designs:
//   seed    the blog post's design: one SendMessage per record; ReceiveMessage 10 with a
//           10 s long poll; insert each record with a fresh ObjectId; DeleteMessageBatch.
//   bbc     sqs-producer (SendMessageBatch of 10) + sqs-consumer, insertMany per received batch
//           (both need Node 22+: this leg runs on Node 24).
//   auditq  the middleware's batcher (packed, compressed messages) and the sidecar.
//
//   tsx bench/anchors/legs.ts <producer|consumer> <seed|bbc|auditq>   (settings in env LEG)
// A producer prints {cpuMicros} once every record is acknowledged by SQS; a consumer prints
// {insertCalls, doneAt} once the collection holds every record.
import { randomBytes, randomUUID } from "node:crypto";
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { ObjectId } from "bson";
import { MongoClient } from "mongodb";
import { Registry } from "prom-client";
import { Batcher } from "../../middleware/batcher/batcher.js";
import { createMiddlewareMetrics } from "../../middleware/config/metrics.js";
import type { Logger } from "../../shared/util/logger.js";
import { createSidecar } from "../../sidecar/sidecar.js";

export interface LegSettings {
  sqsEndpoint: string;
  queueUrl: string;
  mongoUri: string;
  database: string;
  records: number;
  /** Records per second the producer offers; 0 = as fast as it can. */
  rate: number;
  lingerMs: number;
  /** auditq legs: the middleware's `binaryPayload` option. */
  binaryPayload: boolean;
}

const leg = JSON.parse(process.env.LEG ?? "{}") as LegSettings;
const quiet = () => undefined;
const silent: Logger = { debug: quiet, info: quiet, warn: quiet, error: console.error };
const sqsConfig = () => ({
  endpoint: leg.sqsEndpoint,
  region: "us-east-1",
  credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
});

const ROUTES = ["/orders", "/orders/:id", "/orders/:id/cancel", "/users/:id", "/invoices/:id/pay"];

/** A realistic audit record, about 700 bytes as JSON (the middleware's record shape). */
export function realisticRecord(i: number) {
  const route = ROUTES[i % ROUTES.length] as string;
  const id = randomBytes(6).toString("hex");
  const requestId = randomUUID();
  const post = i % 3 === 0;
  return {
    v: 1,
    ts: new Date(),
    actor: {
      id: `user-${Math.floor(Math.random() * 5000)}`,
      type: "user",
      ip: `10.${i % 255}.${(i * 7) % 255}.${(i * 13) % 255}`,
      userAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
    },
    action: `${post ? "POST" : "GET"} ${route}`,
    target: { type: "order", id },
    request: {
      method: post ? "POST" : "GET",
      path: route.replace(":id", id),
      route,
      requestId,
      query: { page: String(i % 10), q: randomBytes(4 + (i % 24)).toString("base64url") },
      headers: { "x-request-id": requestId, "content-type": "application/json" },
      body: post
        ? {
            amount: Math.round(Math.random() * 1e5) / 100,
            currency: "EUR",
            note: "x".repeat(i % 160),
          }
        : undefined,
    },
    // Rounded to the microsecond, as middleware/capture/build.ts writes it (see
    // bench/realistic-record.ts).
    outcome: {
      status: [200, 201, 204, 404, 500][i % 5],
      durationMs: Math.round(Math.random() * 200_000) / 1000,
    },
    service: { name: "shop", version: "1.4.2", host: "web-7f9c", pid: 4242 },
  };
}

/** Calls `send(i)` for every record at the leg's rate, at most `concurrency` at a time. */
async function pace(send: (i: number) => Promise<void>, concurrency: number): Promise<void> {
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < leg.records) {
        const i = next++;
        if (leg.rate > 0) {
          const due = t0 + (i / leg.rate) * 1000;
          const wait = due - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        } else if (i % 50 === 49) {
          // As fast as it goes, but yielding to the event loop as an app answering requests
          // does: without it auditq's add() is all synchronous and a long leg only fills the
          // buffer (40,000 records overflowed its 16 MiB before the first send).
          await new Promise((r) => setImmediate(r));
        }
        await send(i);
      }
    }),
  );
}

async function produceSeed(): Promise<void> {
  const sqs = new SQSClient(sqsConfig());
  await pace(async (i) => {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: leg.queueUrl,
        MessageBody: JSON.stringify(realisticRecord(i)),
      }),
    );
  }, 16);
}

async function produceBbc(): Promise<void> {
  const { Producer } = await import("sqs-producer");
  const producer = Producer.create({ queueUrl: leg.queueUrl, sqs: new SQSClient(sqsConfig()) });
  // The app hands records over as they come, a few at a time; sqs-producer batches each send.
  const batch = 10;
  await pace(async (i) => {
    if (i % batch !== 0) return;
    const messages = [];
    for (let j = i; j < Math.min(i + batch, leg.records); j++) {
      messages.push({ id: String(j), body: JSON.stringify(realisticRecord(j)) });
    }
    await producer.send(messages);
  }, 16);
}

async function produceAuditq(): Promise<void> {
  const batcher = new Batcher({
    sqs: new SQSClient(sqsConfig()),
    queueUrl: leg.queueUrl,
    lingerMs: leg.lingerMs,
    maxMessageBytes: 262_144,
    maxBatchBytes: 262_144,
    maxBufferBytes: 16 * 1024 * 1024,
    maxInflight: 4,
    retry: { baseMs: 100, maxMs: 20_000 },
    logger: silent,
    metrics: createMiddlewareMetrics(new Registry()),
    onError: (err) => console.error(err),
    compression: "br",
    binaryPayload: leg.binaryPayload,
  });
  await pace(async (i) => {
    batcher.add({ _id: new ObjectId(), ...realisticRecord(i) });
  }, 1);
  await batcher.flush();
  await batcher.close(10_000);
}

function monitoredMongo(): { client: MongoClient; inserts: () => number } {
  const client = new MongoClient(leg.mongoUri, { monitorCommands: true });
  let inserts = 0;
  client.on("commandStarted", (e) => {
    if (e.commandName === "insert" || e.commandName === "update") inserts++;
  });
  return { client, inserts: () => inserts };
}

async function consumeSeed(collection: import("mongodb").Collection): Promise<() => void> {
  const sqs = new SQSClient(sqsConfig());
  let running = true;
  const loop = (async () => {
    while (running) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: leg.queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 10,
        }),
      );
      if (Messages.length === 0) continue;
      for (const m of Messages) {
        // The post's dedup rule: a fresh ObjectId per record.
        await collection.insertOne({ _id: new ObjectId(), ...JSON.parse(m.Body ?? "{}") });
      }
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: leg.queueUrl,
          Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
    }
  })();
  return () => {
    running = false;
    void loop.catch(() => undefined);
  };
}

async function consumeBbc(collection: import("mongodb").Collection): Promise<() => void> {
  const { Consumer } = await import("sqs-consumer");
  const consumer = Consumer.create({
    queueUrl: leg.queueUrl,
    sqs: new SQSClient(sqsConfig()),
    batchSize: 10,
    waitTimeSeconds: 10,
    handleMessageBatch: async (messages) => {
      await collection.insertMany(
        messages.map((m) => ({ _id: new ObjectId(), ...JSON.parse(m.Body ?? "{}") })),
      );
      return messages;
    },
  });
  consumer.on("error", (err) => console.error("sqs-consumer:", err.message));
  consumer.start();
  return () => consumer.stop();
}

async function consumeAuditq(mongo: MongoClient): Promise<() => void> {
  const sidecar = createSidecar({
    queueUrl: leg.queueUrl,
    sqs: sqsConfig(),
    mongo,
    database: leg.database,
    waitTimeSeconds: 10,
    registry: new Registry(),
    logger: silent,
  });
  await sidecar.start();
  return () => void sidecar.stop();
}

async function consume(pipeline: string): Promise<void> {
  const { client, inserts } = monitoredMongo();
  const collection = client.db(leg.database).collection("records");
  const counter = new MongoClient(leg.mongoUri);
  const stop =
    pipeline === "seed"
      ? await consumeSeed(collection)
      : pipeline === "bbc"
        ? await consumeBbc(collection)
        : await consumeAuditq(client);
  process.stdout.write("ready\n");
  const counted = counter.db(leg.database).collection("records");
  while ((await counted.countDocuments()) < leg.records) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const doneAt = Date.now();
  stop();
  process.stdout.write(`${JSON.stringify({ insertCalls: inserts(), doneAt })}\n`);
  process.exit(0);
}

async function produce(pipeline: string): Promise<void> {
  const cpu0 = process.cpuUsage();
  const startedAt = Date.now();
  if (pipeline === "seed") await produceSeed();
  else if (pipeline === "bbc") await produceBbc();
  else await produceAuditq();
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(
    `${JSON.stringify({ cpuMicros: (cpu.user + cpu.system) / leg.records, startedAt })}\n`,
  );
  process.exit(0);
}

const [role, pipeline] = process.argv.slice(2);
if (role === "producer") await produce(pipeline as string);
else if (role === "consumer") await consume(pipeline as string);

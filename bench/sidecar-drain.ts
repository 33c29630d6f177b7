// The two sides of `npm run bench:sidecar`: a sidecar draining a queued backlog, and a bare
// insertMany loop over the very documents the sidecar writes, each with its CPU time per record.
import { randomBytes } from "node:crypto";
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import type { Document, MongoClient } from "mongodb";
import type { Logger } from "../shared/util/logger.js";
import { encodeBody } from "../shared/wire/body-codec.js";
import { decodeMessage } from "../shared/wire/decoder.js";
import { type BodyEncoding, envelopeAttributes, envelopeBody } from "../shared/wire/envelope.js";
import { serializeRecord } from "../shared/wire/record-json.js";
import { createSidecar, type SidecarOptions } from "../sidecar/index.js";
import { type CpuProfile, startCpuProfile } from "./cpu-profile.js";
import { servicesCpu } from "./mongo-commands.js";

export const PER_MESSAGE = 500;
export const BULK = 500;
/** In flight at once: the sidecar's default `maxInflightWrites`. */
export const LANES = 4;
/** The sidecar's default write concern, for both sides. */
const WRITE_CONCERN = { w: "majority", journal: true } as const;

/** Quiet, but counts the adaptive limit's changes (the sidecar logs each one at info). */
function quiet(): Logger & { limitChanges: number } {
  const logger = {
    limitChanges: 0,
    debug: () => undefined,
    info: (_o: object, m?: string) => {
      if (m === "write concurrency limit changed") logger.limitChanges++;
    },
    warn: (o: object, m?: string) => console.warn("warn:", m, o),
    error: (o: object, m?: string) => console.error("error:", m, o),
  };
  return logger;
}

export const uid = () => `${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;
/** µs per record each service used since `from` (servicesCpu()). */
function servicesSince(from: Map<string, number>, n: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const [service, s] of servicesCpu())
    out.set(service, ((s - (from.get(service) ?? 0)) * 1e6) / n);
  return out;
}
const cpuUs = (since: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(since);
  return d.user + d.system;
};

/**
 * The batcher's message bodies for `records`: envelopes of PER_MESSAGE, compressed. With
 * `streams` > 0, as producers since record version 2 send them: message i comes from producer
 * i % `streams`, its records carry that producer's `seq` and its envelope the stream mark.
 */
export async function encodeMessages(
  records: readonly Document[],
  encoding: BodyEncoding,
  streams = 0,
) {
  const producers = Array.from({ length: streams }, () => ({
    id: randomBytes(16).toString("base64url"),
    n: 0,
  }));
  const bodies: string[] = [];
  for (let i = 0; i < records.length; i += PER_MESSAGE) {
    const producer = streams > 0 ? producers[(i / PER_MESSAGE) % streams] : undefined;
    const slice = records.slice(i, i + PER_MESSAGE);
    const numbered = producer
      ? slice.map((r) => ({ ...r, v: 2, seq: { stream: producer.id, n: ++producer.n } }))
      : slice;
    const mark = producer ? { id: producer.id, hwm: producer.n } : undefined;
    const text = envelopeBody(
      numbered.map((r) => serializeRecord(r)),
      mark,
    );
    bodies.push(await encodeBody(text, encoding));
  }
  return bodies;
}

/**
 * The documents the sidecar inserts for `bodies`, decoded the sidecar's way. The bare loop
 * inserts these and not the generator's objects, which differ (an `undefined` field, which
 * Extended JSON drops, would go to BSON as null): both sides serialize the same documents.
 */
export async function decodedDocuments(bodies: readonly string[]): Promise<Document[]> {
  const MessageAttributes = envelopeAttributes("br");
  const docs: Document[] = [];
  for (const Body of bodies) docs.push(...(await decodeMessage({ Body, MessageAttributes })));
  return docs;
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

export interface Measured {
  seconds: number;
  cpuUsPerRecord: number;
  /** CPU µs per record each local service (FerretDB, ElasticMQ) used in the same window. */
  servicesUsPerRecord: Map<string, number>;
  /** With `profile`: the main thread's CPU profile over the timed window. */
  profile?: CpuProfile;
}

/**
 * A bare loop of unordered `insertMany` bulks of BULK, LANES in flight, on the same MongoClient
 * (same driver options), with the sidecar's write concern: what the driver alone costs.
 */
export async function bareLoop(
  mongo: MongoClient,
  db: string,
  docs: readonly Document[],
  profile = false,
): Promise<Measured> {
  const coll = mongo.db(db).collection(`bare_${uid()}`);
  const bulks: Document[][] = [];
  for (let i = 0; i < docs.length; i += BULK) bulks.push(docs.slice(i, i + BULK));
  const stopProfile = profile ? await startCpuProfile() : undefined;
  const services0 = servicesCpu();
  const cpu = process.cpuUsage();
  const start = performance.now();
  await Promise.all(
    Array.from({ length: LANES }, async () => {
      for (let bulk = bulks.shift(); bulk; bulk = bulks.shift()) {
        await coll.insertMany(bulk, { ordered: false, writeConcern: WRITE_CONCERN });
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const used = cpuUs(cpu);
  const servicesUsPerRecord = servicesSince(services0, docs.length);
  const cpuProfile = await stopProfile?.();
  const stored = await coll.countDocuments();
  if (stored !== docs.length) throw new Error(`bare loop stored ${stored}`);
  await coll.drop();
  return {
    seconds,
    cpuUsPerRecord: used / docs.length,
    servicesUsPerRecord,
    ...(cpuProfile ? { profile: cpuProfile } : {}),
  };
}

export interface Drain extends Measured {
  /** Records written so far, one entry per 100 ms sample. */
  samples: { t: number; written: number }[];
  /** Until the queue was empty (every delete done). */
  drainedSeconds: number;
  /** CPU per record until the queue was empty (with digests: their writes too). */
  drainedCpuUsPerRecord: number;
  /** SQS requests per 1,000 records by operation, from the sidecar's own counters. */
  sqsPer1000: Record<string, number>;
  /** How often the adaptive concurrency limit changed during the drain. */
  limitChanges: number;
}

/** Queues `bodies` on a fresh queue, then runs a sidecar until every record is written. */
export async function drain(
  sqsEndpoint: string,
  mongo: MongoClient,
  db: string,
  bodies: readonly string[],
  n: number,
  options: Partial<SidecarOptions> = {},
  profile = false,
): Promise<Drain> {
  const sqs = new SQSClient({ endpoint: sqsEndpoint, region: "us-east-1" });
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `bench-${uid()}` }));
  const queueUrl = QueueUrl as string;
  await fill(sqs, queueUrl, bodies);
  const collection = `sidecar_${uid()}`;
  const logger = quiet();
  const sidecar = createSidecar({
    queueUrl,
    mongo,
    database: db,
    collection,
    sqs: { endpoint: sqsEndpoint, region: "us-east-1", maxAttempts: 1 },
    waitTimeSeconds: 1,
    bulkSize: BULK,
    writeConcern: WRITE_CONCERN,
    indexes: [],
    logger,
    ...options,
  });
  const metric = async (name: string, labels = "") => {
    const text = await sidecar.registry.getSingleMetricAsString(name);
    const line = text.split("\n").find((l) => l.startsWith(`${name}${labels} `));
    return Number(line?.split(" ")[1] ?? 0);
  };
  const written = () => metric("auditq_sidecar_records_written_total");
  const stopProfile = profile ? await startCpuProfile() : undefined;
  const services0 = servicesCpu();
  const cpu = process.cpuUsage();
  const start = performance.now();
  await sidecar.start();
  const samples: Drain["samples"] = [];
  let seconds = 0;
  let used = 0;
  let servicesUsPerRecord = new Map<string, number>();
  for (;;) {
    const w = await written();
    const t = (performance.now() - start) / 1000;
    samples.push({ t, written: w });
    if (w >= n) {
      seconds = t;
      used = cpuUs(cpu);
      servicesUsPerRecord = servicesSince(services0, n);
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
  const drainedCpuUsPerRecord = cpuUs(cpu) / n;
  await sidecar.stop();
  const sqsPer1000: Record<string, number> = {};
  for (const op of ["ReceiveMessage", "DeleteMessageBatch", "ChangeMessageVisibilityBatch"]) {
    const billed = await metric("auditq_sidecar_sqs_billed_requests_total", `{operation="${op}"}`);
    sqsPer1000[op] = (billed / n) * 1000;
  }
  const stored = await mongo.db(db).collection(collection).countDocuments();
  if (stored !== n) throw new Error(`expected ${n} documents, found ${stored}`);
  // The stream marks and digests are the sidecar's too: dropped with its records, so that no
  // round writes into a larger database than the one before.
  // (drop() of an absent one, digests off or no streams, returns false.)
  for (const c of ["", "_streams", "_digests"])
    await mongo.db(db).collection(`${collection}${c}`).drop();
  await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
  sqs.destroy();
  return {
    seconds,
    cpuUsPerRecord: used / n,
    servicesUsPerRecord,
    samples,
    drainedSeconds,
    drainedCpuUsPerRecord,
    sqsPer1000,
    limitChanges: logger.limitChanges,
    ...(cpuProfile ? { profile: cpuProfile } : {}),
  };
}

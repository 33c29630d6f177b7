// One leg of `npm run bench:latency`: an Express app with auditq at a fixed request rate, an
// `auditq-sidecar` process, and a watcher that notes when each probed record is readable.
import { once } from "node:events";
import { Agent, request } from "node:http";
import type { AddressInfo } from "node:net";
import { CreateQueueCommand, DeleteQueueCommand, SQSClient } from "@aws-sdk/client-sqs";
import express from "express";
import { type Collection, type MongoClient, ObjectId } from "mongodb";
import { auditq } from "../middleware/index.js";
import { metricValue } from "../test/helpers/metric-value.js";
import { freePort } from "../test/helpers/processes.js";
import { ops, spawnCli } from "../test/helpers/sidecar-cli.js";
import { uid } from "./sidecar-drain.js";

export interface Leg {
  /** Requests per second offered to the app. */
  rate: number;
  /** The middleware's `lingerMs`; undefined = its default. */
  lingerMs: number | undefined;
  /** The sidecar's `maxWriteRate`: 0 = none. */
  writeCap: number;
  /** Seconds of measured load, after `warmupSeconds` of load not measured. */
  seconds: number;
  warmupSeconds: number;
}

export interface LegResult {
  /** Response-to-readable latencies of the probed requests, ms, ascending. */
  latencies: number[];
  /** Requests the app answered per second during the measured window. */
  achievedRate: number;
  /** Mean time between the watcher's polls, ms (the resolution of every latency). */
  pollMs: number;
}

/** At most this many probed requests a second: a probe every ceil(rate / PROBES) requests. */
const PROBES_PER_SECOND = 20;
const POLL_MS = 10;
/** Lookups per poll, oldest unseen probes first. */
const LOOKUPS = 4;
const SETTLE_TIMEOUT_MS = 120_000;

export async function runLeg(
  leg: Leg,
  endpoints: { sqs: string; mongo: string },
  mongo: MongoClient,
): Promise<LegResult> {
  const sqs = new SQSClient({ endpoint: endpoints.sqs, region: "us-east-1" });
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `latency-${uid()}` }));
  const queueUrl = QueueUrl as string;
  const database = `auditq_latency_${uid()}`;
  const records = mongo.db(database).collection("records");
  const port = await freePort();
  const sidecar = spawnCli(endpoints.sqs, {
    AUDITQ_QUEUE_URL: queueUrl,
    AUDITQ_MONGODB_URI: endpoints.mongo,
    AUDITQ_DATABASE: database,
    AUDITQ_METRICS_PORT: String(port),
    AUDITQ_MAX_WRITE_RATE: String(leg.writeCap),
  });
  const audit = auditq({
    queueUrl,
    sqs: { endpoint: endpoints.sqs, region: "us-east-1" },
    ...(leg.lingerMs === undefined ? {} : { lingerMs: leg.lingerMs }),
  });
  const finished = new Map<string, number>();
  const app = express();
  app.use(audit);
  app.get("/:kind/:n", (req, res) => {
    if (req.params.kind === "probe") {
      // The record's `_id`, fixed when the request arrived: the watcher looks it up by `_id`.
      const { id } = (req as unknown as { audit: { id: ObjectId } }).audit;
      res.on("finish", () => finished.set(id.toHexString(), performance.now()));
    }
    res.json({ ok: true });
  });
  const server = app.listen(0, "127.0.0.1");
  await once(server, "listening");
  const appPort = (server.address() as AddressInfo).port;
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  try {
    await until(
      async () => {
        const m = await ops(port, "/metrics");
        const share = metricValue(m.body, "auditq_sidecar_write_share_records_per_second");
        return (await ops(port, "/readyz")).status === 200 && share >= leg.writeCap;
      },
      60_000,
      `sidecar ready (${sidecar.output().slice(-500)})`,
    );
    const every = Math.ceil(leg.rate / PROBES_PER_SECOND);
    const get = (path: string) =>
      new Promise<void>((resolve, reject) => {
        request({ agent, host: "127.0.0.1", port: appPort, path }, (res) => {
          res.resume().on("end", resolve);
        })
          .on("error", reject)
          .end();
      });
    const watching = watch(records, finished);
    await paced(leg.rate, leg.warmupSeconds, (i) => get(`/warm/${i}`));
    const begun = performance.now();
    const sent = await paced(leg.rate, leg.seconds, (i) =>
      get(i % every === 0 ? `/probe/${i}` : `/load/${i}`),
    );
    const achievedRate = sent / ((performance.now() - begun) / 1000);
    await audit.flush();
    const probes = Math.ceil(sent / every);
    const result = await watching.until(probes, SETTLE_TIMEOUT_MS);
    return { ...result, achievedRate };
  } finally {
    agent.destroy();
    server.close();
    await audit.close();
    sidecar.child.kill("SIGTERM");
    await sidecar.exited;
    await mongo.db(database).dropDatabase();
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    sqs.destroy();
  }
}

/** Calls `send(i)` `rate` times a second for `seconds`, on schedule; resolves when all answered. */
async function paced(rate: number, seconds: number, send: (i: number) => Promise<void>) {
  const total = Math.round(rate * seconds);
  const start = performance.now();
  const pending: Promise<void>[] = [];
  let i = 0;
  while (i < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
    for (; i < due; i++) pending.push(send(i));
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, 1000 / rate / 2)));
  }
  await Promise.all(pending);
  return total;
}

/**
 * Polls MongoDB for the probes answered and not yet seen, the LOOKUPS oldest at a time, each by
 * `_id` (FerretDB on SQLite scans the whole collection for any other filter, `$in` on `_id`
 * included); a probe's latency runs from its response's end to the return of the first lookup
 * that found it: an upper bound, at most one poll period late.
 */
function watch(records: Collection, finished: Map<string, number>) {
  const latencies: number[] = [];
  const seen = new Set<string>();
  let polls = 0;
  const startedAt = performance.now();
  let stop = false;
  const lookup = async (hex: string) => {
    const found = await records.findOne(
      { _id: ObjectId.createFromHexString(hex) },
      { projection: { _id: 1 } },
    );
    if (found === null || seen.has(hex)) return;
    seen.add(hex);
    latencies.push(performance.now() - (finished.get(hex) as number));
  };
  const loop = (async () => {
    while (!stop) {
      const unseen: string[] = [];
      for (const hex of finished.keys()) {
        if (!seen.has(hex)) unseen.push(hex);
        if (unseen.length >= LOOKUPS) break;
      }
      if (unseen.length > 0) {
        await Promise.all(unseen.map(lookup));
        polls++;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  })();
  return {
    async until(probes: number, timeoutMs: number): Promise<Omit<LegResult, "achievedRate">> {
      await until(async () => seen.size >= probes, timeoutMs, `${probes} probes readable`);
      stop = true;
      await loop;
      const pollMs = (performance.now() - startedAt) / Math.max(1, polls);
      return { latencies: latencies.sort((a, b) => a - b), pollMs };
    },
  };
}

/** Polls `check` every 50 ms until it holds; throws with `what` after `timeoutMs`. */
async function until(check: () => Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// `npm run bench:fleet`: N sidecar processes (the CLI) on one queue share one write budget.
// For N = 1, 2, 4, 8: the combined write rate over 10 s against the budget, and after a SIGKILL
// of one member how long the rest take to write at the whole budget again; first, what four
// members write without a budget (MongoDB's ceiling), last, the share idle members keep.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { CreateQueueCommand, DeleteQueueCommand, SQSClient } from "@aws-sdk/client-sqs";
import { MongoClient } from "mongodb";
import { FleetWatch, type Sample } from "../test/helpers/fleet-watch.js";
import { metricValue } from "../test/helpers/metric-value.js";
import { freePort } from "../test/helpers/processes.js";
import { sendRecords } from "../test/helpers/queue-records.js";
import { type CliProcess, spawnCli } from "../test/helpers/sidecar-cli.js";

const BUDGET = Number(process.env.BENCH_FLEET_BUDGET ?? 400);
const SIZES = (process.env.BENCH_FLEET_SIZES ?? "1,2,4,8").split(",").map(Number);
const MEASURE_MS = 10_000;
/** Records queued for the ceiling run. */
const CEILING_BACKLOG = 60_000;

/** The services: the ones named by AUDITQ_TEST_* if set, else `scripts/services up`. */
function services(): { sqs: string; mongo: string } {
  if (process.env.AUDITQ_TEST_SQS_ENDPOINT && process.env.AUDITQ_TEST_MONGODB_URI) {
    return {
      sqs: process.env.AUDITQ_TEST_SQS_ENDPOINT,
      mongo: process.env.AUDITQ_TEST_MONGODB_URI,
    };
  }
  const script = fileURLToPath(new URL("../scripts/services", import.meta.url));
  const out = execFileSync(script, ["up"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const env = Object.fromEntries(
    [...out.matchAll(/^export ([A-Z0-9_]+)=(.*)$/gm)].map((m) => [m[1], m[2]]),
  );
  return {
    sqs: env.AUDITQ_TEST_SQS_ENDPOINT as string,
    mongo: env.AUDITQ_TEST_MONGODB_URI as string,
  };
}

async function until<T>(
  what: string,
  probe: () => T | Promise<T>,
  ok: (v: T) => boolean,
  ms: number,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Row {
  size: number;
  rate: number;
  /** The highest rate over any 5 s window, from the start to the SIGKILL. */
  peak5s: number;
  rebalanceMs: number | undefined;
  rateAfter: number | undefined;
}

/** Starts a fleet member (the CLI) on `queueUrl` and has `watch` read its metrics. */
async function spawnMember(
  endpoints: { sqs: string; mongo: string },
  queueUrl: string,
  database: string,
  watch: FleetWatch,
  env: Record<string, string> = {},
): Promise<{ c: CliProcess; port: number }> {
  const port = await freePort();
  const c = spawnCli(endpoints.sqs, {
    AUDITQ_QUEUE_URL: queueUrl,
    AUDITQ_MONGODB_URI: endpoints.mongo,
    AUDITQ_DATABASE: database,
    AUDITQ_METRICS_PORT: String(port),
    AUDITQ_VISIBILITY_TIMEOUT_SECONDS: "20",
    AUDITQ_WAIT_TIME_SECONDS: "1",
    ...env,
  });
  watch.add(port);
  return { c, port };
}

async function run(size: number, endpoints: { sqs: string; mongo: string }): Promise<Row> {
  const sqs = new SQSClient({ endpoint: endpoints.sqs, region: "us-east-1", maxAttempts: 1 });
  const name = `auditq-bench-fleet-${size}-${Date.now().toString(36)}`;
  const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl as string;
  const mongo = new MongoClient(endpoints.mongo);
  const database = name.replace(/-/g, "_");
  // Enough for the whole run at the budget: it must never run dry.
  await sendRecords(sqs, queueUrl, BUDGET * 90, 50);
  const watch = new FleetWatch();
  const members: { c: CliProcess; port: number }[] = [];
  try {
    for (let i = 0; i < size; i++) {
      members.push(
        await spawnMember(endpoints, queueUrl, database, watch, {
          AUDITQ_MAX_WRITE_RATE: String(BUDGET),
        }),
      );
    }
    watch.start();
    const gauge = (port: number, n: string) => metricValue(watch.metrics(port), n);
    const settled = (alive: typeof members) =>
      alive.every(
        (m) =>
          gauge(m.port, "auditq_sidecar_fleet_members") === alive.length &&
          Math.abs(
            gauge(m.port, "auditq_sidecar_write_share_records_per_second") - BUDGET / alive.length,
          ) < 0.01,
      );
    await until("every member at its share", () => settled(members), Boolean, 180_000);
    // One more renewal period, so that every bucket runs at its share.
    const from = Date.now() + 3_000;
    await until(
      "the measurement window",
      () => watch.samples.at(-1)?.t ?? 0,
      (t) => t >= from + MEASURE_MS,
      60_000,
    );
    const rate = watch.rate(from, from + MEASURE_MS);
    const peak5s = watch.peakRate(5_000);
    let rebalanceMs: number | undefined;
    let rateAfter: number | undefined;
    if (size > 1) {
      const victim = members.pop() as (typeof members)[number];
      const killedAt = Date.now();
      victim.c.child.kill("SIGKILL");
      await victim.c.exited;
      // Its last count stays in the total; a member that never answers would stop the samples.
      watch.remove(victim.port);
      // Rebalanced: every survivor at BUDGET/(size-1), and the fleet writing within 5 % of the
      // budget over the last 2 s.
      const done = await until(
        "the survivors at the whole budget",
        () => ({
          now: Date.now(),
          ok: settled(members),
          rate: watch.rate(Date.now() - 2_000, Date.now()),
        }),
        (v) => v.ok && v.rate >= BUDGET * 0.95,
        60_000,
      );
      rebalanceMs = done.now - killedAt;
      const after = Date.now();
      await until(
        "5 s after",
        () => watch.samples.at(-1)?.t ?? 0,
        (t) => t >= after + 5_000,
        30_000,
      );
      rateAfter = watch.rate(after, after + 5_000);
    }
    return { size, rate, peak5s, rebalanceMs, rateAfter };
  } finally {
    await watch.stop();
    for (const m of members) m.c.child.kill("SIGKILL");
    await Promise.all(members.map((m) => m.c.exited));
    await mongo
      .db(database)
      .dropDatabase()
      .catch((err: unknown) => console.warn("drop failed", err));
    await mongo.close();
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    sqs.destroy();
  }
}

/**
 * MongoDB's own ceiling as the fleet sees it: `size` members without a budget draining a backlog,
 * their combined rate over 10 s once all of them write. The budget must sit well below it.
 */
async function runCeiling(
  size: number,
  endpoints: { sqs: string; mongo: string },
): Promise<number> {
  const sqs = new SQSClient({ endpoint: endpoints.sqs, region: "us-east-1", maxAttempts: 1 });
  const name = `auditq-bench-ceiling-${Date.now().toString(36)}`;
  const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl as string;
  const mongo = new MongoClient(endpoints.mongo);
  const database = name.replace(/-/g, "_");
  await sendRecords(sqs, queueUrl, CEILING_BACKLOG, 50);
  const watch = new FleetWatch();
  const members: { c: CliProcess; port: number }[] = [];
  try {
    for (let i = 0; i < size; i++) {
      members.push(await spawnMember(endpoints, queueUrl, database, watch));
    }
    watch.start();
    await until(
      "every member writing",
      () => watch.samples.at(-1)?.members ?? {},
      (m) => Object.keys(m).length === size && Object.values(m).every((n) => n > 0),
      180_000,
    );
    // From the first sample with every member writing, for MEASURE_MS or until 90 % of the
    // backlog is written (a quick MongoDB drains it sooner), whichever comes first.
    const first = watch.samples.at(-1) as Sample;
    const last = await until(
      "the measurement window",
      () => watch.samples.at(-1) as Sample,
      (b) => b.t >= first.t + MEASURE_MS || b.total >= CEILING_BACKLOG * 0.9,
      120_000,
    );
    return ((last.total - first.total) * 1000) / (last.t - first.t);
  } finally {
    await watch.stop();
    for (const m of members) m.c.child.kill("SIGKILL");
    await Promise.all(members.map((m) => m.c.exited));
    await mongo
      .db(database)
      .dropDatabase()
      .catch((err: unknown) => console.warn("drop failed", err));
    await mongo.close();
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    sqs.destroy();
  }
}

interface IdleRow {
  busy: number;
  idle: number;
  rate: number;
  busyShare: number;
  idleShare: number;
}

/**
 * `busy` members on a queue with a backlog and `idle` ones on an empty queue, all writing to the
 * same collection (one fleet): how much of the budget the idle ones keep.
 */
async function runIdle(
  busy: number,
  idle: number,
  endpoints: { sqs: string; mongo: string },
): Promise<IdleRow> {
  const sqs = new SQSClient({ endpoint: endpoints.sqs, region: "us-east-1", maxAttempts: 1 });
  const name = `auditq-bench-idle-${Date.now().toString(36)}`;
  const busyQueue = (await sqs.send(new CreateQueueCommand({ QueueName: `${name}-busy` })))
    .QueueUrl as string;
  const idleQueue = (await sqs.send(new CreateQueueCommand({ QueueName: `${name}-idle` })))
    .QueueUrl as string;
  const mongo = new MongoClient(endpoints.mongo);
  const database = name.replace(/-/g, "_");
  await sendRecords(sqs, busyQueue, BUDGET * 60, 50);
  const watch = new FleetWatch();
  const members: { c: CliProcess; port: number; busy: boolean }[] = [];
  try {
    for (let i = 0; i < busy + idle; i++) {
      const queue = i < busy ? busyQueue : idleQueue;
      const member = await spawnMember(endpoints, queue, database, watch, {
        AUDITQ_MAX_WRITE_RATE: String(BUDGET),
      });
      members.push({ ...member, busy: i < busy });
    }
    watch.start();
    const gauge = (port: number, n: string) => metricValue(watch.metrics(port), n);
    await until(
      "every member in the fleet",
      () => members.every((m) => gauge(m.port, "auditq_sidecar_fleet_members") === busy + idle),
      Boolean,
      180_000,
    );
    // Two more renewals: claims measured and seen by everyone.
    const from = Date.now() + 5_000;
    await until(
      "the measurement window",
      () => watch.samples.at(-1)?.t ?? 0,
      (t) => t >= from + MEASURE_MS,
      60_000,
    );
    const share = (m: (typeof members)[number]) =>
      gauge(m.port, "auditq_sidecar_write_share_records_per_second");
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    return {
      busy,
      idle,
      rate: watch.rate(from, from + MEASURE_MS),
      busyShare: sum(members.filter((m) => m.busy).map(share)),
      idleShare: sum(members.filter((m) => !m.busy).map(share)),
    };
  } finally {
    await watch.stop();
    for (const m of members) m.c.child.kill("SIGKILL");
    await Promise.all(members.map((m) => m.c.exited));
    await mongo
      .db(database)
      .dropDatabase()
      .catch((err: unknown) => console.warn("drop failed", err));
    await mongo.close();
    for (const q of [busyQueue, idleQueue]) await sqs.send(new DeleteQueueCommand({ QueueUrl: q }));
    sqs.destroy();
  }
}

const endpoints = services();
if (process.env.BENCH_FLEET_CEILING !== "0") {
  const ceiling = await runCeiling(4, endpoints);
  console.log(
    `ceiling: 4 sidecars without a budget wrote ${ceiling.toFixed(0)} records/s together`,
  );
}
const rows: Row[] = [];
for (const size of SIZES) {
  const row = await run(size, endpoints);
  rows.push(row);
  console.log(JSON.stringify(row));
}
console.log(`\nbudget ${BUDGET} records/s\n`);
console.log(
  "| sidecars | combined records/s (10 s) | vs budget | highest 5 s window | rebalance after SIGKILL of one | records/s in the 5 s after |",
);
console.log("| --- | --- | --- | --- | --- | --- |");
for (const r of rows) {
  const pct = ((r.rate / BUDGET - 1) * 100).toFixed(1);
  console.log(
    `| ${r.size} | ${r.rate.toFixed(0)} | ${pct} % | ${r.peak5s.toFixed(0)} | ${r.rebalanceMs === undefined ? "—" : `${(r.rebalanceMs / 1000).toFixed(1)} s`} | ${r.rateAfter === undefined ? "—" : r.rateAfter.toFixed(0)} |`,
  );
}

if (process.env.BENCH_FLEET_IDLE !== "0") {
  const idle = await runIdle(2, 2, endpoints);
  console.log(JSON.stringify(idle));
  console.log(
    "\n| busy + idle | combined records/s (10 s) | vs budget | shares of the busy | shares of the idle |",
  );
  console.log("| --- | --- | --- | --- | --- |");
  console.log(
    `| ${idle.busy} + ${idle.idle} | ${idle.rate.toFixed(0)} | ${((idle.rate / BUDGET - 1) * 100).toFixed(1)} % | ${idle.busyShare.toFixed(1)} | ${idle.idleShare.toFixed(1)} |`,
  );
}

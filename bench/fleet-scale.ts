// `npm run bench:fleet-scale`: N fleet members, each a real FleetMembership in this process,
// on one lease collection, under simulated demand (Zipf-skewed, noisy, a burst to 2× the budget
// on a tenth of the members, a fifth dying at once, 5 % churn a minute). Per N: lease operations
// and documents read per second, overshoot of the budget, time to converge, distance from the
// demand-fair split. BENCH_SCALE_BACKEND=ferretdb drives the real database on the real clock;
// `memory` (default) an in-memory stand-in of the collection on a virtual clock, to measure the
// protocol's arithmetic at sizes the database cannot be driven at here. BENCH_SCALE_LABEL names
// the code measured in the table (a before/after runs the bench from two checkouts).
import { MongoClient } from "mongodb";
import type { LeaseDoc } from "../sidecar/fleet/lease.js";
import { counting, newCounts } from "./fleet-scale/counting.js";
import { MemoryLeases } from "./fleet-scale/memory-leases.js";
import { printTable, type Row, type Steady, snapshot, summarize } from "./fleet-scale/report.js";
import { realScheduler, runScenario, timeline, virtualScheduler } from "./fleet-scale/scenario.js";
import { World } from "./fleet-scale/world.js";
import { services } from "./services.js";

const env = process.env;
const BACKEND = env.BENCH_SCALE_BACKEND ?? "memory";
const SIZES = (env.BENCH_SCALE_SIZES ?? "100,300,1000,1100").split(",").map(Number);
const BUDGET = Number(env.BENCH_SCALE_BUDGET ?? 10_000);
const LABEL = env.BENCH_SCALE_LABEL ?? "";
/** `leaseLifetimeMs`: the option's default, so that times read as a sidecar's. */
const LIFETIME_MS = Number(env.BENCH_SCALE_LIFETIME_MS ?? 6_000);
/** Length of a run: long enough for a few renewals at the longest period at 1,000 members. */
const TIMELINE = timeline(Number(env.BENCH_SCALE_SECONDS ?? 275) * 1000);
/** Σ base demand over the budget, and the burst's demand over the budget. */
const BASE_LOAD = 0.6;
const BURST_LOAD = 2;
const NOISE = Number(env.BENCH_SCALE_NOISE ?? 0.3);
const CHURN_PER_MINUTE = Number(env.BENCH_SCALE_CHURN ?? 0.05);

async function one(size: number, mongo: MongoClient | undefined): Promise<Row> {
  const counts = newCounts();
  const sched = BACKEND === "memory" ? virtualScheduler() : realScheduler();
  const epoch = Date.now();
  let raw: import("mongodb").Collection<LeaseDoc>;
  if (mongo === undefined) {
    raw = new MemoryLeases(() => epoch + sched.now()).asCollection();
  } else {
    const db = mongo.db(`auditq_bench_scale_${size}_${epoch.toString(36)}`);
    raw = db.collection<LeaseDoc>("sidecar_leases");
    await raw.createIndex({ scope: 1 });
  }
  const world = new World({
    budget: BUDGET,
    lifetimeMs: LIFETIME_MS,
    leases: counting(raw, counts),
    now: () => sched.now(),
    seed: size,
    baseLoad: BASE_LOAD,
    noise: NOISE,
  });
  let atBurst: Steady = { ops: 0, docsRead: 0 };
  sched.at(TIMELINE.burstAt, () => {
    atBurst = snapshot(counts);
  });
  const cpu = process.cpuUsage();
  const out = await runScenario(
    world,
    sched,
    {
      size,
      periodMs: LIFETIME_MS / 3,
      budget: BUDGET,
      burstLoad: BURST_LOAD,
      churnPerMinute: CHURN_PER_MINUTE,
    },
    TIMELINE,
  );
  const used = process.cpuUsage(cpu);
  if (mongo !== undefined) {
    await mongo
      .db(`auditq_bench_scale_${size}_${epoch.toString(36)}`)
      .dropDatabase()
      .catch((err: unknown) => console.warn("drop failed", err));
  }
  const row = summarize(
    LABEL === "" ? BACKEND : `${BACKEND}, ${LABEL}`,
    { size, lifetimeMs: LIFETIME_MS, budget: BUDGET, meanPeriodMs: out.meanPeriodMs },
    out,
    counts,
    atBurst,
    TIMELINE,
    (used.user + used.system) / 1000,
  );
  console.log(JSON.stringify({ ...row, joined: out.joined, died: out.died }));
  return row;
}

const mongo =
  BACKEND === "memory" ? undefined : new MongoClient(services().AUDITQ_TEST_MONGODB_URI as string);
const rows: Row[] = [];
try {
  for (const size of SIZES) rows.push(await one(size, mongo));
} finally {
  await mongo?.close();
}
printTable(rows, BUDGET);

// `npm run bench:latency`: how long after its response a request's record is readable in
// MongoDB, p50 and p99, at 10, 100 and 1,000 requests/s; with the middleware's default
// `lingerMs` and with 2000; with the sidecar below its write cap (cap at twice the offered rate)
// and at it (cap = offered rate). Against the local FerretDB and ElasticMQ (scripts/services, or
// AUDITQ_TEST_SQS_ENDPOINT and AUDITQ_TEST_MONGODB_URI when set), the sidecar as its own
// process (`auditq-sidecar` from source, defaults otherwise), the app and its load in this one.
//
// BENCH_LATENCY_SECONDS (default 20) of measured load per leg after BENCH_LATENCY_WARMUP_SECONDS
// (default 2); BENCH_LATENCY_RATES (default 10,100,1000), BENCH_LATENCY_LINGERS (default
// "default,2000") and BENCH_LATENCY_CAPS (default "2,1": write cap as a multiple of the rate,
// 0 = no cap) pick the legs. 12 legs of 20 s: about 5 minutes.
import { MongoClient } from "mongodb";
import { type Leg, runLeg } from "./latency-run.js";
import { services } from "./services.js";

const list = (name: string, fallback: string) =>
  (process.env[name] ?? fallback).split(",").map((s) => s.trim());
const SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 20);
const WARMUP = Number(process.env.BENCH_LATENCY_WARMUP_SECONDS ?? 2);
const RATES = list("BENCH_LATENCY_RATES", "10,100,1000").map(Number);
const LINGERS = list("BENCH_LATENCY_LINGERS", "default,2000").map((l) =>
  l === "default" ? undefined : Number(l),
);
const CAPS = list("BENCH_LATENCY_CAPS", "2,1").map(Number);

/** The value at quantile q of ascending `xs` (nearest rank). */
const quantile = (xs: readonly number[], q: number) =>
  xs[Math.min(xs.length - 1, Math.max(0, Math.ceil(q * xs.length) - 1))] as number;

async function main(): Promise<void> {
  const env = services();
  for (const name of ["AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]) {
    process.env[name] ??= env[name];
  }
  const endpoints = {
    sqs: env.AUDITQ_TEST_SQS_ENDPOINT as string,
    mongo: env.AUDITQ_TEST_MONGODB_URI as string,
  };
  const mongo = new MongoClient(endpoints.mongo);
  await mongo.connect();
  console.log(
    `End-to-end latency: response end → record readable in MongoDB; ${SECONDS} s measured per leg after ${WARMUP} s of warm-up; probes (at most 20 a second) looked up by _id, the 4 oldest unseen every 10 ms + lookup time\n`,
  );
  console.log(
    "| requests/s | `lingerMs` | write cap | achieved req/s | probes | p50 ms | p99 ms | max ms | poll period ms |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|");
  try {
    for (const lingerMs of LINGERS) {
      for (const cap of CAPS) {
        for (const rate of RATES) {
          const leg: Leg = {
            rate,
            lingerMs,
            writeCap: cap * rate,
            seconds: SECONDS,
            warmupSeconds: WARMUP,
          };
          const r = await runLeg(leg, endpoints, mongo);
          const capText = cap === 0 ? "none" : `${cap * rate}/s (${cap}× the rate)`;
          console.log(
            `| ${rate} | ${lingerMs ?? "default"} | ${capText} | ${r.achievedRate.toFixed(0)}${r.achievedRate < 0.95 * rate ? " (under-offered: not valid)" : ""} | ${r.latencies.length} | ${quantile(r.latencies, 0.5).toFixed(0)} | ${quantile(r.latencies, 0.99).toFixed(0)} | ${(r.latencies.at(-1) ?? 0).toFixed(0)} | ${r.pollMs.toFixed(0)} |`,
          );
        }
      }
    }
  } finally {
    await mongo.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

// `npm run bench:cold-start`: what a new auditq instance costs a short-lived process (a
// serverless function, a worker, a test): a new Express app with a new `auditq()`, its first
// request, then `close()` (which sends that one record), against the same new app without
// auditq, rounds alternating. Against the local ElasticMQ (scripts/services, or
// AUDITQ_TEST_SQS_ENDPOINT). BENCH_COLD_ROUNDS (default 60) rounds of each.
import { once } from "node:events";
import { get } from "node:http";
import type { AddressInfo } from "node:net";
import { CreateQueueCommand, DeleteQueueCommand, SQSClient } from "@aws-sdk/client-sqs";
import express from "express";
import { auditq } from "../middleware/index.js";
import { services } from "./services.js";
import { uid } from "./sidecar-drain.js";

const ROUNDS = Number(process.env.BENCH_COLD_ROUNDS ?? 60);

interface Round {
  /** From nothing to the app closed, ms. */
  total: number;
  /** Of which: `auditq()` itself, the first request, `close()`. */
  construct: number;
  request: number;
  close: number;
}

async function round(withAuditq: { queueUrl: string; endpoint: string } | undefined) {
  const t0 = performance.now();
  const app = express();
  const audit = withAuditq
    ? auditq({
        queueUrl: withAuditq.queueUrl,
        sqs: { endpoint: withAuditq.endpoint, region: "us-east-1" },
      })
    : undefined;
  const t1 = performance.now();
  if (audit) app.use(audit);
  app.get("/hello/:name", (req, res) => {
    res.json({ hello: req.params.name });
  });
  const server = app.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve, reject) => {
    get({ host: "127.0.0.1", port, path: "/hello/world", agent: false }, (res) => {
      res.resume().on("end", resolve);
    }).on("error", reject);
  });
  const t2 = performance.now();
  if (audit) {
    const report = await audit.close();
    if (report.sent !== 1) throw new Error(`close() sent ${report.sent} records, not 1`);
  }
  const t3 = performance.now();
  server.close();
  await once(server, "close");
  const t4 = performance.now();
  return { total: t4 - t0, construct: t1 - t0, request: t2 - t1, close: t3 - t2 } as Round;
}

const quantile = (xs: readonly number[], q: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
};

async function main(): Promise<void> {
  const env = services();
  for (const name of ["AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]) {
    process.env[name] ??= env[name];
  }
  const endpoint = env.AUDITQ_TEST_SQS_ENDPOINT as string;
  const sqs = new SQSClient({ endpoint, region: "us-east-1" });
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `cold-${uid()}` }));
  const target = { queueUrl: QueueUrl as string, endpoint };
  try {
    // Untimed: load and compile both paths once, as a process would before its first request.
    await round(undefined);
    await round(target);
    const bare: Round[] = [];
    const withAuditq: Round[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      // Alternate which goes first, so neither always runs right after the other's garbage.
      if (i % 2 === 0) bare.push(await round(undefined));
      withAuditq.push(await round(target));
      if (i % 2 === 1) bare.push(await round(undefined));
    }
    const stat = (rs: Round[], k: keyof Round) =>
      `median ${quantile(
        rs.map((r) => r[k]),
        0.5,
      ).toFixed(2)} ms, p99 ${quantile(
        rs.map((r) => r[k]),
        0.99,
      ).toFixed(2)} ms, worst ${Math.max(...rs.map((r) => r[k])).toFixed(2)} ms`;
    console.log(
      `Cold start: new Express app → first request → close, ${ROUNDS} rounds each, alternating`,
    );
    console.log(`  bare app:        ${stat(bare, "total")}`);
    console.log(`  app with auditq: ${stat(withAuditq, "total")}`);
    for (const k of ["construct", "request", "close"] as const) {
      console.log(`    ${`${k}:`.padEnd(11)} ${stat(withAuditq, k)}`);
    }
    const ratio = (q: number) =>
      quantile(
        withAuditq.map((r) => r.total),
        q,
      ) /
      quantile(
        bare.map((r) => r.total),
        q,
      );
    console.log(
      `  ratio with auditq / bare: median ${ratio(0.5).toFixed(2)}×, p99 ${ratio(0.99).toFixed(2)}×`,
    );
  } finally {
    await sqs.send(new DeleteQueueCommand({ QueueUrl: target.queueUrl }));
    sqs.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

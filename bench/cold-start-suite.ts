// `npm run bench:cold-start-suite`: what auditq costs a test suite that builds an app per test.
// In one process, BENCH_SUITE_ROUNDS (300) rounds of: a new Express app, a new auditq() on it
// (except bare), listen, one request over a new connection, the server closed, and no
// audit.close() (as a suite's tests leave them), 5 ms apart. Reports each round's time (median,
// p99, worst, rounds over 20 and 100 ms) and the event loop's delay (monitorEventLoopDelay).
//
//   npm run bench:cold-start-suite -- bare ok failing
//
// Kinds: `bare`; `ok`, auditq sending to a stub SQS endpoint that accepts everything (a child
// process); `failing`, auditq sending to a closed port (every send refused at once, so every
// instance keeps its record and retries with backoff, as with a queue the suite cannot reach).
// Both with region and credentials given in the environment, so no credential chain runs.
// BENCH_BASELINE_DIST=/path/dist/index.js runs `ok-before` and `failing-before` too, with
// that build. The auditq kinds load dist/ (npm run build first), or BENCH_DIST.
import { spawn } from "node:child_process";
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { loadavg } from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { startStubSqs } from "./stub-sqs.js";

const SELF = fileURLToPath(import.meta.url);
const ROUNDS = Number(process.env.BENCH_SUITE_ROUNDS ?? 300);
const DIST = process.env.BENCH_DIST ?? fileURLToPath(new URL("../dist/index.js", import.meta.url));
const BASELINE = process.env.BENCH_BASELINE_DIST;

// A failing queue's warnings (one per instance) would flood the output; the cost stays measured.
const nothing = () => undefined;
const QUIET = { debug: nothing, info: nothing, warn: nothing, error: nothing };

/** Child "suite": one kind's rounds; prints one line of results. */
async function suite(kind: string, dist: string, endpoint: string): Promise<void> {
  const { default: express } = await import("express");
  const mod =
    kind === "bare"
      ? undefined
      : ((await import(`file://${dist}`)) as { auditq: (o: object) => unknown });
  const one = async () => {
    const t0 = performance.now();
    const app = express();
    if (mod) {
      app.use(
        mod.auditq({
          queueUrl: `${endpoint}/000000000000/suite`,
          sqs: { endpoint, region: "us-east-1" },
          logger: QUIET,
        }) as never,
      );
    }
    app.get("/hello/:name", (req, res) => {
      res.json({ hello: req.params.name });
    });
    const server = app.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve, reject) => {
      http
        .get({ host: "127.0.0.1", port, path: "/hello/world", agent: false }, (res) => {
          res.resume().on("end", resolve);
        })
        .on("error", reject);
    });
    server.close();
    return performance.now() - t0;
  };
  await one();
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    times.push(await one());
    await sleep(5);
  }
  delay.disable();
  const sorted = [...times].sort((a, b) => a - b);
  const q = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] as number;
  console.log(
    `| ${kind} | ${q(0.5).toFixed(1)} | ${q(0.99).toFixed(1)} | ${(sorted.at(-1) as number).toFixed(1)} | ${times.filter((t) => t > 20).length} | ${times.filter((t) => t > 100).length} | ${(delay.percentile(99) / 1e6).toFixed(1)} | ${(delay.max / 1e6).toFixed(1)} |`,
  );
  process.exit(0);
}

async function child(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const proc = spawn(process.execPath, [...process.execArgv, SELF, ...args], {
    stdio: ["ignore", "pipe", "inherit"],
    env,
  });
  let out = "";
  proc.stdout?.on("data", (c: Buffer) => {
    out += c.toString();
  });
  await once(proc, "exit");
  return out.trim();
}

async function main(): Promise<void> {
  const kinds =
    process.argv.slice(2).length > 0 ? process.argv.slice(2) : ["bare", "ok", "failing"];
  const stubProc = spawn(process.execPath, [...process.execArgv, SELF, "stub"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const [chunk] = (await once(stubProc.stdout as NodeJS.ReadableStream, "data")) as [Buffer];
  const ok = `http://127.0.0.1:${chunk.toString().trim()}`;
  // A port nothing listens on: bound, then closed.
  const probe = http.createServer().listen(0, "127.0.0.1");
  await once(probe, "listening");
  const failing = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
  probe.close();
  const env = {
    ...process.env,
    AWS_ACCESS_KEY_ID: "suite",
    AWS_SECRET_ACCESS_KEY: "suite",
    AWS_REGION: "us-east-1",
    AWS_EC2_METADATA_DISABLED: "true",
  };
  console.log(
    `load before: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}`,
  );
  console.log(
    `${ROUNDS} rounds per kind, each: new app (+ auditq()), listen, one request, server closed; no audit.close()`,
  );
  console.log(
    "| kind | round median ms | p99 ms | worst ms | rounds > 20 ms | rounds > 100 ms | loop delay p99 ms | loop delay max ms |\n|---|---|---|---|---|---|---|---|",
  );
  try {
    const runs = kinds.flatMap((k) =>
      k !== "bare" && BASELINE
        ? [
            [k, DIST],
            [`${k}-before`, BASELINE],
          ]
        : [[k, DIST]],
    );
    for (const [kind, dist] of runs as [string, string][]) {
      const base = kind.replace(/-before$/, "");
      const endpoint = base === "failing" ? failing : ok;
      const line = await child(["suite", base, dist, endpoint], env);
      console.log(line.replace(`| ${base} |`, `| ${kind} |`));
    }
  } finally {
    stubProc.kill();
  }
  console.log(
    `load after: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}`,
  );
}

// Child "stub": the stub SQS endpoint, its port on stdout.
if (process.argv[2] === "stub") {
  void startStubSqs().then((sqs) => process.stdout.write(`${new URL(sqs.url).port}\n`));
} else if (process.argv[2] === "suite") {
  await suite(process.argv[3] as string, process.argv[4] as string, process.argv[5] as string);
} else await main();

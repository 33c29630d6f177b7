// Capture overhead: an Express hello-world bare, with morgan, with pino-http and with auditq,
// under autocannon.
//
//   npm run bench:capture            (about six minutes)
//
// The package is built first and the apps load dist/, as users run it. Each app runs in its
// own child process; this process runs autocannon and a stub SQS endpoint
// that answers SendMessageBatch at once, so what differs between the apps is the
// middleware (for auditq: capture, serialization, batching, the SDK call) and nothing
// downstream. The two loggers write each line synchronously to /dev/null, as they do to a
// file or terminal stdout by default. Each round runs every app once, in an order rotated per
// round, so drift on a shared machine hits all alike; the report gives the median of the rounds.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, openSync, writeSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { decodeMessage } from "../shared/wire/decoder.js";
import { startStubSqs } from "./stub-sqs.js";

const SELF = fileURLToPath(import.meta.url);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DIST = new URL("../dist/index.js", import.meta.url).href;
const CONNECTIONS = 100;
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 7);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PIPELINING = (process.env.BENCH_PIPELINING ?? "1,10").split(",").map(Number);
// BENCH_RATE=2000[,4000]: also run each app at that fixed overall rate (req/s, -c 100 -p 1),
// below saturation. At saturation every app is as busy as it can be, and costs that grow with
// contention (response writes descheduled by the threadpool, fewer responses per write at a
// lower rate) are charged to the slower app; at a fixed rate all apps answer the same requests
// in the same time, so CPU per request compares like with like.
const RATES = (process.env.BENCH_RATE ?? "").split(",").filter(Boolean).map(Number);
/** One load setting: pipelining, and a fixed overall rate or none (as fast as possible). */
interface Setting {
  pipelining: number;
  rate: number | undefined;
}
const SETTINGS: Setting[] = [
  ...PIPELINING.map((pipelining) => ({ pipelining, rate: undefined })),
  ...RATES.map((rate) => ({ pipelining: 1, rate })),
];
const label = (s: Setting) =>
  `-c ${CONNECTIONS} -p ${s.pipelining}${s.rate === undefined ? "" : ` at ${s.rate} req/s`}`;

// BENCH_BASELINE_DIST=/path/to/dist/index.js adds "auditq-before": another build of auditq (an
// earlier commit's), measured in the same run as this one.
const BASELINE_DIST = process.env.BENCH_BASELINE_DIST;
// "auditq-disk" is auditq with durability "disk" (every record written to the spool, group
// commits), next to "auditq" with the default "memory"; "auditq-zstd" is auditq with
// compression "zstd". BENCH_MODES=bare,pino-http,auditq,... runs a subset.
const ALL_MODES = [
  "bare",
  "morgan",
  "pino-http",
  "auditq",
  "auditq-disk",
  "auditq-zstd",
  ...(BASELINE_DIST ? ["auditq-before"] : []),
];
const MODES = process.env.BENCH_MODES
  ? ALL_MODES.filter((m) => process.env.BENCH_MODES?.split(",").includes(m))
  : ALL_MODES;
type Mode = string;

/** Child: serve the hello-world app, with the middleware asked for, and print the port. */
async function serve(mode: Mode, sqsEndpoint: string): Promise<void> {
  const { default: express } = await import("express");
  const app = express();
  // CPU time of this process, read around each run: per-request cost that a busy machine
  // distorts far less than req/s. Mounted before auditq, so never audited.
  app.get("/__cpu", (_req, res) => {
    const { user, system } = process.cpuUsage();
    res.json({ micros: user + system });
  });
  if (mode === "morgan") {
    const { default: morgan } = await import("morgan");
    const devNull = openSync("/dev/null", "w");
    app.use(morgan("combined", { stream: { write: (line: string) => writeSync(devNull, line) } }));
  } else if (mode === "pino-http") {
    const { default: pino } = await import("pino");
    const { pinoHttp } = await import("pino-http");
    app.use(pinoHttp({ logger: pino(pino.destination({ dest: "/dev/null", sync: true })) }));
  }
  let close = async () => undefined as unknown;
  if (mode.startsWith("auditq")) {
    // The built package, as apps run it (not the TypeScript sources through tsx).
    const dist = mode === "auditq-before" ? `file://${BASELINE_DIST}` : DIST;
    const { auditq } = (await import(dist)) as typeof import("../middleware/index.js");
    const audit = auditq({
      queueUrl: `${sqsEndpoint}/000000000000/bench`,
      sqs: {
        endpoint: sqsEndpoint,
        region: "us-east-1",
        credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
        md5: false,
      },
      // Its own spool directory, so the two auditq apps never share one.
      spool: { dir: mkdtempSync(join(tmpdir(), `auditq-bench-${mode}-`)) },
      ...(mode === "auditq-disk" ? { durability: "disk" as const } : {}),
      ...(mode === "auditq-zstd" ? { compression: "zstd" as const } : {}),
      logger: {
        debug: () => undefined,
        info: () => undefined,
        warn: (o, m) => console.error(m, o),
        error: (o, m) => console.error(m, o),
      },
    });
    app.use(audit);
    close = audit.close;
  }
  process.on("SIGTERM", () => {
    void close().finally(() => process.exit(0));
  });
  app.get("/hello/:name", (req, res) => {
    res.json({ hello: req.params.name });
  });
  const server = app.listen(0, "127.0.0.1", () => {
    process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
  });
}

async function startApp(
  mode: Mode,
  sqsUrl: string,
): Promise<{ port: number; child: ChildProcess }> {
  // BENCH_CPU_PROF_DIR=dir: each app writes a V8 CPU profile there when it exits.
  const prof = process.env.BENCH_CPU_PROF_DIR;
  const profiling = prof ? ["--cpu-prof", `--cpu-prof-dir=${prof}`] : [];
  const child = spawn(
    process.execPath,
    [...profiling, ...process.execArgv, SELF, "serve", mode, sqsUrl],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const [chunk] = (await once(child.stdout as NodeJS.ReadableStream, "data")) as [Buffer];
  return { port: Number(chunk.toString().trim()), child };
}

interface Sample {
  rps: number;
  p99: number;
  errors: number;
  /** Server CPU time per request, in microseconds. */
  cpuMicros: number;
}

/** The samples of each app, in round order. */
class Samples {
  private readonly byMode = new Map<Mode, Sample[]>(MODES.map((m) => [m, []]));
  of(mode: Mode): Sample[] {
    return this.byMode.get(mode) as Sample[];
  }
}

async function cpuMicros(port: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/__cpu`);
  return ((await res.json()) as { micros: number }).micros;
}

async function load(port: number, setting: Setting, seconds: number): Promise<Sample> {
  const { default: autocannon } = await import("autocannon");
  const cpuBefore = await cpuMicros(port);
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/hello/world`,
    connections: CONNECTIONS,
    pipelining: setting.pipelining,
    duration: seconds,
    ...(setting.rate === undefined ? {} : { overallRate: setting.rate }),
  });
  const cpu = (await cpuMicros(port)) - cpuBefore;
  return {
    cpuMicros: cpu / Math.max(1, result.requests.total),
    rps: result.requests.average,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx + result.timeouts,
  };
}

/**
 * The steps of one capture in isolation, on a request object built from Express's own
 * prototype: where the per-request CPU goes, free of network and load-generator noise.
 */
async function micro(): Promise<string[]> {
  const { default: express } = await import("express");
  const { resolveOptions } = await import("../middleware/config/resolve.js");
  const capture = await import("../middleware/capture/build.js");
  const facts = await import("../middleware/capture/request-facts.js");
  const { trackRoute } = await import("../middleware/capture/route.js");
  const { RequestView } = await import("../middleware/capture/request-view.js");
  const { serializeRecord } = await import("../shared/wire/record-json.js");
  const { capturedRecordJson } = await import("../middleware/capture/known-shape-json.js");
  const config = resolveOptions({ queueUrl: "http://127.0.0.1:1/000000000000/micro" });
  const app = express();
  const req = Object.assign(Object.create(app.request), {
    method: "GET",
    url: "/hello/world",
    originalUrl: "/hello/world",
    baseUrl: "",
    params: { name: "world" },
    headers: { host: "127.0.0.1:3000", "user-agent": "autocannon", accept: "*/*" },
    app,
    socket: { remoteAddress: "127.0.0.1" },
  });
  const res = { statusCode: 200, writableFinished: true };
  const begin = facts.beginCapture();
  const ctx = facts.createContext(begin, req);
  const seen = { template: "/hello/:name", params: { name: "world" } };
  const build = () =>
    capture.buildRecord(
      {
        config,
        begin,
        ctx,
        seen,
        req,
        res: res as never,
        aborted: false,
        now: 1,
        view: new RequestView(req),
      },
      () => undefined,
    );
  const record = build().record;
  const steps: Array<[string, () => unknown]> = [
    ["start: ObjectId, Date, req.audit", () => facts.createContext(facts.beginCapture(), req)],
    [
      "route tracking (accessors on req)",
      () => {
        const r = Object.create(req);
        trackRoute(r);
        r.route = { path: "/hello/:name" };
      },
    ],
    ["build the record at finish", build],
    ["EJSON serialization, generic (serializeRecord)", () => serializeRecord(record as never)],
    ["EJSON serialization, captured record (batcher.add)", () => capturedRecordJson(record)],
  ];
  const n = 100_000;
  const lines: string[] = [];
  for (const [name, fn] of steps) {
    for (let i = 0; i < 10_000; i++) fn();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn();
    const micros = Number(process.hrtime.bigint() - t0) / n / 1000;
    lines.push(`| ${name} | ${micros.toFixed(2)} |`);
  }
  lines.push(`\nrecord size: ${Buffer.byteLength(serializeRecord(record as never))} bytes`);
  return lines;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

async function main(): Promise<void> {
  const steps = await micro();
  console.log("| step (in isolation) | µs per request |\n|---|---|");
  for (const line of steps) console.log(line);
  if (process.env.BENCH_MICRO_ONLY) return;
  execFileSync("npm", ["run", "build"], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
  let recordsTaken = 0;
  // Records decoded from what the stub took, after it answered: decoding never delays the app.
  const sqs = await startStubSqs((entries) => {
    for (const e of entries) {
      decodeMessage({ Body: e.MessageBody, MessageAttributes: e.MessageAttributes }).then(
        (docs) => {
          recordsTaken += docs.length;
        },
        (err: unknown) => console.error("stub SQS: undecodable message", err),
      );
    }
  });
  const apps = new Map<Mode, { port: number; child: ChildProcess }>();
  for (const mode of MODES) apps.set(mode, await startApp(mode, sqs.url));
  const portOf = (mode: Mode) => apps.get(mode)?.port as number;
  const tables: string[] = [];
  try {
    for (const p of SETTINGS) {
      // Warm-up: JIT, connection pools, the SDK's first call.
      for (const mode of MODES) await load(portOf(mode), p, 2);
      const samples = new Samples();
      for (let round = 0; round < ROUNDS; round++) {
        // Rotated each round, so no app always runs right after the same neighbour.
        const order = MODES.map((_, i) => MODES[(i + round) % MODES.length] as Mode);
        for (const mode of order) {
          const sample = await load(portOf(mode), p, DURATION_S);
          samples.of(mode).push(sample);
          console.error(
            `${label(p)} round ${round + 1} ${mode}: ${sample.rps.toFixed(0)} req/s, p99 ${sample.p99} ms, ${sample.cpuMicros.toFixed(1)} µs CPU/req, errors ${sample.errors}`,
          );
        }
      }
      tables.push(report(p, samples));
    }
  } finally {
    for (const { child } of apps.values()) child.kill("SIGTERM");
    await Promise.all([...apps.values()].map(({ child }) => once(child, "exit")));
    sqs.close();
  }
  console.log(
    `Node ${process.version}, ${ROUNDS} rounds of ${DURATION_S} s per app and setting (medians)`,
  );
  for (const table of tables) console.log(`\n${table}`);
  console.log(`\nrecords the stub SQS received: ${recordsTaken}`);
}

/**
 * One table per pipelining setting. "Added CPU" is the app's median CPU per request minus the
 * bare app's; per round too (same round, next to each other in time), whose median is the
 * figure least moved by the machine's load.
 */
function report(setting: Setting, samples: Samples): string {
  const bare = samples.of("bare");
  const added = (mode: Mode) =>
    samples.of(mode).map((s, i) => s.cpuMicros - (bare[i] as Sample).cpuMicros);
  const rows = MODES.map((mode) => {
    const s = samples.of(mode);
    const rps = median(s.map((x) => x.rps));
    const cpu = median(s.map((x) => x.cpuMicros));
    const errors = s.reduce((n, x) => n + x.errors, 0);
    const perRound = added(mode);
    // Without pino-http in the run (BENCH_MODES), there is nothing to compare with.
    const vsPino =
      mode === "bare" || !MODES.includes("pino-http")
        ? "–"
        : `${(median(perRound) / median(added("pino-http"))).toFixed(2)}×`;
    return `| ${mode} | ${rps.toFixed(0)} | ${(rps / median(bare.map((x) => x.rps))).toFixed(3)}× | ${median(s.map((x) => x.p99))} | ${cpu.toFixed(1)} | ${mode === "bare" ? "–" : `+${median(perRound).toFixed(1)} (${perRound.map((x) => x.toFixed(0)).join(", ")})`} | ${vsPino} | ${errors} |`;
  });
  return [
    label(setting),
    "| app | req/s | vs bare | p99 ms | µs CPU/req | added µs CPU/req, median (per round) | added CPU vs pino-http | errors |",
    "|---|---|---|---|---|---|---|---|",
    ...rows,
  ].join("\n");
}

if (process.argv[2] === "serve") {
  await serve(process.argv[3] as Mode, process.argv[4] as string);
} else {
  await main();
}

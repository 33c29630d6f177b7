// Capture overhead in instructions: how many CPU instructions an app process executes per
// request, bare, with pino-http, and with one or more builds of auditq, counted by valgrind's
// callgrind. An instruction count does not depend on the machine's load, so two builds (two
// commits) compare deterministically on a busy machine; it is not time (no cache misses, no
// kernel time: a syscall counts only its user-space side).
//
//   npm run bench:capture-instructions -- bare pino-http dist/index.js /tmp/cap-694c4fc/dist/index.js
//
// Each app runs in its own process under callgrind: an Express 5 hello-world as in
// bench/capture.ts. This process is the client (keep-alive connections, each sending its next
// request when the last is answered) and the stub SQS endpoint. Per app: warm-up requests and a
// flush, then BENCH_WINDOWS windows, each: counters zeroed, BENCH_REQUESTS requests and a flush,
// counters dumped. The report is the windows' instructions (all threads: the main thread and
// libuv's threadpool compressing) per request. Settings: BENCH_REQUESTS (3000), BENCH_WINDOWS
// (2), BENCH_WARMUP (2000), BENCH_CONNECTIONS (8), BENCH_LINGER_MS (60000, below),
// BENCH_NODE_FLAGS (below), BENCH_CPU_PROF_DIR (a V8 CPU profile per app instead of callgrind).
// Each window is also split by what executed it (splitByKind, below): V8's garbage collector,
// V8's optimizing compilers, compression, and the rest (the app's, Express's and auditq's code,
// V8's builtins and runtime, Node's C++).
// Needs valgrind (callgrind, callgrind_control). About 90 s per app.
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, openSync, readFileSync, writeSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startStubSqs } from "./stub-sqs.js";

const SELF = fileURLToPath(import.meta.url);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 3000);
const WINDOWS = Number(process.env.BENCH_WINDOWS ?? 2);
// V8 without background threads and with a garbage collection schedule that depends on
// allocation only (not on timing or memory pressure): the same build then counts about the same
// instructions run after run. Without them, a window of 1,000 requests varied by up to 2× with
// where a major collection or a batch of optimizing compilations fell.
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? "--single-threaded --predictable-gc-schedule")
  .split(" ")
  .filter(Boolean);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
// Under callgrind an app serves a few hundred requests a second, so the default lingerMs (200)
// would send messages of a few dozen records, each paying a compression call's fixed cost that
// at saturation is shared by hundreds. A long linger keeps every record of the window in the
// messages its final flush sends, as a saturated app's messages are (hundreds of records).
const LINGER_MS = Number(process.env.BENCH_LINGER_MS ?? 60_000);

/** Child: the hello-world app with `app` ("bare", "pino-http" or a dist/index.js path). */
async function serve(app: string, sqsEndpoint: string): Promise<void> {
  const { default: express } = await import("express");
  const server = express();
  let flush = async (): Promise<unknown> => undefined;
  // Mounted before the middleware under test, so never audited or logged.
  server.get("/__flush", (_req, res) => {
    void flush().then(() => res.json({ flushed: true }));
  });
  if (app === "pino-http") {
    const { default: pino } = await import("pino");
    const { pinoHttp } = await import("pino-http");
    server.use(pinoHttp({ logger: pino(pino.destination({ dest: "/dev/null", sync: true })) }));
  } else if (app === "morgan") {
    const { default: morgan } = await import("morgan");
    const devNull = openSync("/dev/null", "w");
    server.use(
      morgan("combined", { stream: { write: (line: string) => writeSync(devNull, line) } }),
    );
  } else if (app !== "bare") {
    const { auditq } = (await import(`file://${resolve(app)}`)) as {
      auditq: (o: object) => ((...a: never[]) => void) & { flush(): Promise<void> };
    };
    const audit = auditq({
      queueUrl: `${sqsEndpoint}/000000000000/bench`,
      sqs: {
        endpoint: sqsEndpoint,
        region: "us-east-1",
        credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
        md5: false,
      },
      spool: { dir: mkdtempSync(join(tmpdir(), "auditq-bench-instr-")) },
      lingerMs: LINGER_MS,
      logger: {
        debug: () => undefined,
        info: () => undefined,
        warn: (o: unknown, m: string) => console.error(m, o),
        error: (o: unknown, m: string) => console.error(m, o),
      },
    });
    server.use(audit as never);
    flush = () => audit.flush();
  }
  server.get("/hello/:name", (req, res) => {
    res.json({ hello: req.params.name });
  });
  // A profiled app writes its profile on exit.
  process.on("SIGINT", () => process.exit(0));
  const listener = server.listen(0, "127.0.0.1", () => {
    process.stdout.write(`${(listener.address() as AddressInfo).port}\n`);
  });
}

/** `n` GETs of /hello/world over `CONNECTIONS` keep-alive connections, each in turn. */
async function send(port: number, n: number, agent: http.Agent): Promise<void> {
  let left = n;
  const one = () =>
    new Promise<void>((done, fail) => {
      const req = http.get({ host: "127.0.0.1", port, path: "/hello/world", agent }, (res) => {
        res.resume();
        res.on("end", () => (res.statusCode === 200 ? done() : fail(new Error("not 200"))));
      });
      req.on("error", fail);
    });
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (left > 0) {
        left--;
        await one();
      }
    }),
  );
}

async function get(port: number, path: string, agent: http.Agent): Promise<void> {
  await new Promise<void>((done, fail) => {
    http
      .get({ host: "127.0.0.1", port, path, agent }, (res) => {
        res.resume();
        res.on("end", done);
      })
      .on("error", fail);
  });
}

/** What executed an instruction, told by the name of the function it is in (see splitByKind). */
type Kind = "gc" | "compiler" | "compression" | "rest";
const KINDS: readonly Kind[] = ["gc", "compiler", "compression", "rest"];

function kindOf(fn: string): Kind {
  if (
    /compiler::|maglev::|Turbofan|Maglev|RegisterAllocat|InstructionSelector|CodeGenerator|Zone::/.test(
      fn,
    )
  ) {
    return "compiler";
  }
  if (
    /^(Brotli|CreateBackwardReferences|Zopfli|StoreSymbol|StoreCommand)|Huffman|MetaBlock|BlockSplit|ClusterHistograms|deflate|ZSTD_|zstd/.test(
      fn,
    )
  ) {
    return "compression";
  }
  if (
    /Heap|Scaveng|MarkCompact|Marking|Sweep|Evacuat|RememberedSet|BodyDescriptor|Visitor|Worklist|SizeFromMap|RecordWrite|Barrier|Ephemeron|AllocateRaw|FreeList|Allocat/.test(
      fn,
    )
  ) {
    return "gc";
  }
  return "rest";
}

/**
 * A callgrind dump's instructions by kind: each function's own (exclusive) count, told apart by
 * its name (V8's heap and GC, its optimizing compilers, brotli/zlib/zstd, the rest). JIT code
 * has no name and counts as the rest. An approximation: a few helpers of either side may land
 * on the other.
 */
function splitByKind(dump: string): Record<Kind, number> {
  const out: Record<Kind, number> = { gc: 0, compiler: 0, compression: 0, rest: 0 };
  // Names are compressed: `fn=(12) name` the first time, `fn=(12)` after; cfn= shares the ids.
  const names = new Map<string, string>();
  let kind: Kind = "rest";
  let callCost = false;
  for (const line of dump.split("\n")) {
    const fn = /^c?fn=\((\d+)\)(?: (.*))?$/.exec(line);
    if (fn !== null) {
      const [, id, name] = fn as unknown as [string, string, string | undefined];
      if (name !== undefined) names.set(id, name);
      if (line.startsWith("fn=")) kind = kindOf(names.get(id) ?? "");
      continue;
    }
    if (line.startsWith("calls=")) {
      // The next cost line is the call's inclusive cost, counted in the callee already.
      callCost = true;
      continue;
    }
    const cost = /^[\d+*-]\S* (\d+)/.exec(line);
    if (cost === null) continue;
    if (callCost) callCost = false;
    else out[kind] += Number(cost[1]);
  }
  return out;
}

/** Instructions per request of one app, counted by callgrind over the measured window. */
async function measure(
  app: string,
  sqsUrl: string,
  outDir: string,
): Promise<Array<{ perRequest: number; kinds: Record<Kind, number> }>> {
  const out = join(outDir, `callgrind.${app.replace(/[^a-z0-9]+/gi, "_")}.out`);
  // BENCH_CPU_PROF_DIR=dir: no callgrind; the app runs with a V8 CPU profile written there
  // instead (where the time goes, not how many instructions).
  const prof = process.env.BENCH_CPU_PROF_DIR;
  const app_ = [process.execPath, ...NODE_FLAGS, SELF, "serve", app, sqsUrl];
  const child = prof
    ? spawn(process.execPath, ["--cpu-prof", `--cpu-prof-dir=${prof}`, ...app_.slice(1)], {
        stdio: ["ignore", "pipe", "pipe"],
      })
    : spawn("valgrind", ["--tool=callgrind", `--callgrind-out-file=${out}`, ...app_], {
        stdio: ["ignore", "pipe", "pipe"],
      });
  let stderr = "";
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const [chunk] = (await once(child.stdout as NodeJS.ReadableStream, "data")) as [Buffer];
  const port = Number(chunk.toString().trim());
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  try {
    await send(port, WARMUP, agent);
    await get(port, "/__flush", agent);
    for (let w = 0; w < WINDOWS; w++) {
      if (!prof) execFileSync("callgrind_control", ["-z", String(child.pid)], { stdio: "ignore" });
      await send(port, REQUESTS, agent);
      await get(port, "/__flush", agent);
      if (!prof) execFileSync("callgrind_control", ["-d", String(child.pid)], { stdio: "ignore" });
    }
  } finally {
    agent.destroy();
    // SIGINT lets a profiled app write its profile on the way out.
    child.kill(prof ? "SIGINT" : "SIGKILL");
    await once(child, "exit");
  }
  if (prof) return [];
  // Each window's dump is a file callgrind_control -d wrote: <out>.<n>, n = 1, 2, ...
  const counts: Array<{ perRequest: number; kinds: Record<Kind, number> }> = [];
  for (let w = 1; w <= WINDOWS; w++) {
    const dump = `${out}.${w}`;
    const totals = /^(?:totals|summary): (\d+)/m.exec(readFileSync(dump, "utf8"));
    if (totals === null) throw new Error(`no totals in ${dump}:\n${stderr}`);
    const kinds = splitByKind(readFileSync(dump, "utf8"));
    for (const k of KINDS) kinds[k] /= REQUESTS;
    counts.push({ perRequest: Number(totals[1]) / REQUESTS, kinds });
  }
  return counts;
}

async function main(): Promise<void> {
  const apps = process.argv.slice(2);
  if (apps.length === 0)
    throw new Error("name the apps: bare, pino-http, morgan, or a dist/index.js");
  const sqs = await startStubSqs();
  const outDir = mkdtempSync(join(tmpdir(), "auditq-callgrind-"));
  const results: Array<[string, number]> = [];
  const split: string[] = [];
  try {
    for (const app of apps) {
      const before = sqs.entries();
      const windows = await measure(app, sqs.url, outDir);
      // All windows together: garbage collection is part of what a middleware costs, and one
      // collection lands in one window or another.
      const perRequest = windows.reduce((a, w) => a + w.perRequest, 0) / windows.length;
      results.push([app, perRequest]);
      console.error(
        `${app}: ${perRequest.toFixed(0)} instructions/request (windows ${windows.map((w) => w.perRequest.toFixed(0)).join(", ")}; ${sqs.entries() - before} SQS entries)`,
      );
      windows.forEach((w, i) => {
        split.push(
          `| ${app} | ${i + 1} | ${KINDS.map((k) => w.kinds[k].toFixed(0)).join(" | ")} |`,
        );
      });
    }
  } finally {
    sqs.close();
  }
  const bare = results.find(([a]) => a === "bare")?.[1];
  const pino = results.find(([a]) => a === "pino-http")?.[1];
  console.log(
    `Node ${process.version} ${NODE_FLAGS.join(" ")}, ${WINDOWS} windows of ${REQUESTS} requests after ${WARMUP} warm-up, ${CONNECTIONS} connections (callgrind dumps in ${outDir})`,
  );
  console.log(
    "| app | instructions/request | added over bare | added vs pino-http's |\n|---|---|---|---|",
  );
  for (const [app, n] of results) {
    const added = bare === undefined ? undefined : n - bare;
    const ratio =
      added === undefined || pino === undefined || bare === undefined || app === "bare"
        ? "–"
        : `${(added / (pino - bare)).toFixed(2)}×`;
    console.log(
      `| ${app} | ${n.toFixed(0)} | ${added === undefined || app === "bare" ? "–" : `+${added.toFixed(0)}`} | ${ratio} |`,
    );
  }
  if (split.length > 0) {
    console.log(
      "\nPer window, instructions/request by what executed them (splitByKind):\n| app | window | GC | optimizing compiler | compression | the rest |\n|---|---|---|---|---|---|",
    );
    for (const row of split) console.log(row);
  }
}

if (process.argv[2] === "serve") {
  await serve(process.argv[3] as string, process.argv[4] as string);
} else {
  await main();
}

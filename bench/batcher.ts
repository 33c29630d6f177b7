// Bench: billed SQS requests per 1,000 realistic records, auditq's batcher against a baseline
// of 10 unpacked records per SendMessageBatch, counted on the wire by an HTTP proxy in front of
// the SQS server; records per CPU-second; and retained memory through an outage.
//
//   npm run bench:batcher            (AUDITQ_SERVICES_DIR / AUDITQ_TEST_SQS_ENDPOINT as for tests)
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, request } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  SendMessageBatchCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { ObjectId } from "bson";
import { Registry } from "prom-client";
import { Batcher } from "../middleware/batcher/batcher.js";
import { createMiddlewareMetrics } from "../middleware/config/metrics.js";
import { Packer } from "../middleware/message/packer.js";
import type { Logger } from "../shared/util/logger.js";
import { type BodyEncoding, ENVELOPE_ATTRIBUTES, envelopeBody } from "../shared/wire/envelope.js";
import { serializeRecord } from "../shared/wire/record-json.js";
import { messageBytes, SQS_BILLING_CHUNK_BYTES } from "../shared/wire/sqs-limits.js";
import { realisticRecord } from "./realistic-record.js";

const quiet = () => undefined;
const silent: Logger = { debug: quiet, info: quiet, warn: quiet, error: quiet };

// ---- a counting HTTP proxy: what actually went over the wire ----
interface WireCounts {
  calls: number;
  httpBytes: number;
  /** Billed requests by the payload SQS bills (message bodies plus attributes). */
  billed: number;
  /** Billed requests if SQS billed the whole HTTP body (an upper bound). */
  billedHttp: number;
  messages: number;
}

/** Runs in its own process (`--proxy <target>`), so its CPU does not count as auditq's. */
async function runCountingProxy(target: URL): Promise<void> {
  const counts: WireCounts = { calls: 0, httpBytes: 0, billed: 0, billedHttp: 0, messages: 0 };
  const server = createServer((req: IncomingMessage, res) => {
    if (req.url === "/__counts") {
      res.end(JSON.stringify(counts));
      if (req.method === "DELETE") {
        Object.assign(counts, { calls: 0, httpBytes: 0, billed: 0, billedHttp: 0, messages: 0 });
      }
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      if (String(req.headers["x-amz-target"]).endsWith(".SendMessageBatch")) {
        const input = JSON.parse(body.toString("utf8")) as {
          Entries: Array<{ MessageBody: string; MessageAttributes?: Record<string, never> }>;
        };
        let payload = 0;
        for (const e of input.Entries) payload += messageBytes(e.MessageBody, e.MessageAttributes);
        counts.calls++;
        counts.messages += input.Entries.length;
        counts.httpBytes += body.length;
        counts.billed += Math.max(1, Math.ceil(payload / SQS_BILLING_CHUNK_BYTES));
        counts.billedHttp += Math.max(1, Math.ceil(body.length / SQS_BILLING_CHUNK_BYTES));
      }
      const upstream = request(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on("error", (err) => {
        res.writeHead(502);
        res.end(String(err));
      });
      upstream.end(body);
    });
  });
  server.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${port}\n`);
}

async function startCountingProxy(target: URL) {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", fileURLToPath(import.meta.url), "--proxy", target.href],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const [line] = (await once(createInterface({ input: child.stdout }), "line")) as [string];
  const url = `http://127.0.0.1:${Number(line)}`;
  let counts: WireCounts = { calls: 0, httpBytes: 0, billed: 0, billedHttp: 0, messages: 0 };
  return {
    url,
    get counts() {
      return counts;
    },
    async read() {
      counts = (await (await fetch(`${url}/__counts`)).json()) as WireCounts;
    },
    async reset() {
      await fetch(`${url}/__counts`, { method: "DELETE" });
    },
    async close() {
      const exited = once(child, "exit");
      child.kill();
      await exited;
    },
  };
}

function sqsEndpoint(): string {
  if (process.env.AUDITQ_TEST_SQS_ENDPOINT) return process.env.AUDITQ_TEST_SQS_ENDPOINT;
  const services = fileURLToPath(new URL("../scripts/services", import.meta.url));
  const out = execFileSync(services, ["up"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const match = /^export AUDITQ_TEST_SQS_ENDPOINT=['"]?([^'"\n]+)/m.exec(out);
  if (!match?.[1]) throw new Error(`no SQS endpoint in scripts/services output:\n${out}`);
  return match[1];
}

function client(endpoint: string): SQSClient {
  return new SQSClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 1,
  });
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1e6;
}

function retainedHeap(): number {
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
  return process.memoryUsage().heapUsed;
}

const fmt = (n: number, digits = 1) => n.toFixed(digits);

/**
 * Synchronous stretches of the batcher's own flush-path steps: pump() (packing, starting
 * sends) and the synchronous part of Packer.encode() (joining the envelope, handing it to zlib).
 * The event-loop delay histogram also sees the producer, GC and the other tenants of the CPU.
 */
const blocking: { pumpMs: number[]; encodeMs: number[] } = { pumpMs: [], encodeMs: [] };
const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.99)] ?? 0;
function instrument(): void {
  const wrap = (proto: Record<string, unknown>, name: string, key: keyof typeof blocking) => {
    const original = proto[name] as (...args: unknown[]) => unknown;
    proto[name] = function (this: unknown, ...args: unknown[]) {
      const t = performance.now();
      try {
        return original.apply(this, args);
      } finally {
        blocking[key].push(performance.now() - t);
      }
    };
  };
  wrap(Batcher.prototype as unknown as Record<string, unknown>, "pump", "pumpMs");
  wrap(Packer.prototype as unknown as Record<string, unknown>, "encode", "encodeMs");
}

async function main() {
  instrument();
  const endpoint = sqsEndpoint();
  const proxy = await startCountingProxy(new URL(endpoint));
  const admin = client(endpoint);
  const sqs = client(proxy.url);
  const { QueueUrl } = await admin.send(
    new CreateQueueCommand({ QueueName: `auditq-bench-${Date.now().toString(36)}` }),
  );
  const queueUrl = QueueUrl as string;
  const rows: string[] = [];
  const sizes = Array.from({ length: 2000 }, (_, i) =>
    Buffer.byteLength(serializeRecord(realisticRecord(i))),
  );
  sizes.sort((a, b) => a - b);
  console.log(
    `records: ${sizes[0]}–${sizes.at(-1)} bytes, median ${sizes[1000]} (relaxed Extended JSON)`,
  );

  // Baseline: 10 records per SendMessageBatch, one record per message, no compression.
  {
    const n = 10_000;
    await proxy.reset();
    const cpu = process.cpuUsage();
    const t = performance.now();
    for (let i = 0; i < n; i += 10) {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: Array.from({ length: 10 }, (_, j) => ({
            Id: String(j),
            MessageBody: envelopeBody([serializeRecord(realisticRecord(i + j))]),
            MessageAttributes: ENVELOPE_ATTRIBUTES,
          })),
        }),
      );
    }
    const secs = (performance.now() - t) / 1000;
    await proxy.read();
    const c = proxy.counts;
    rows.push(
      `| baseline: 10 unpacked records per call | ${fmt((c.billed / n) * 1000)} | ${fmt((c.calls / n) * 1000)} | ${fmt(c.httpBytes / n, 0)} | ${fmt(n / cpuSeconds(cpu), 0)} | ${fmt(n / secs, 0)} | – | – |`,
    );
  }

  // auditq: as fast as the producer can add, yielding to the event loop every 50 records.
  const runBatcher = async (
    label: string,
    compression: BodyEncoding,
    n: number,
    maxMessageBytes = 262_144,
  ) => {
    await proxy.reset();
    const batcher = new Batcher({
      sqs,
      queueUrl,
      lingerMs: 200,
      maxMessageBytes,
      maxBatchBytes: maxMessageBytes,
      maxBufferBytes: 16 * 1024 * 1024,
      maxInflight: 4,
      retry: { baseMs: 100, maxMs: 20_000 },
      logger: silent,
      metrics: createMiddlewareMetrics(new Registry()),
      onError: (err) => console.error(err),
      compression,
    });
    const records = Array.from({ length: 5000 }, (_, i) => realisticRecord(i));
    blocking.pumpMs = [];
    blocking.encodeMs = [];
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    const cpu = process.cpuUsage();
    const t = performance.now();
    let dropped = 0;
    for (let i = 0; i < n; i++) {
      // Fresh _id per record; the rest reused so the generator does not dominate the CPU figure.
      const r = records[i % records.length] as ReturnType<typeof realisticRecord>;
      if (!batcher.add({ ...r, _id: new ObjectId() })) dropped++;
      if (i % 50 === 49) await new Promise((resolve) => setImmediate(resolve));
    }
    await batcher.flush();
    const secs = (performance.now() - t) / 1000;
    const cpuSecs = cpuSeconds(cpu);
    loop.disable();
    await batcher.close(10_000);
    await proxy.read();
    const c = proxy.counts;
    rows.push(
      `| ${label} | ${fmt((c.billed / n) * 1000, 2)} | ${fmt((c.calls / n) * 1000, 2)} | ${fmt(c.httpBytes / n, 0)} | ${fmt(n / cpuSecs, 0)} | ${fmt(n / secs, 0)} | ${fmt(loop.percentile(99) / 1e6, 1)} / ${fmt(loop.max / 1e6, 1)} | ${fmt(p99(blocking.pumpMs), 2)} / ${fmt(Math.max(...blocking.pumpMs), 1)} · ${fmt(p99(blocking.encodeMs), 2)} / ${fmt(Math.max(...blocking.encodeMs), 1)} |${dropped ? ` dropped ${dropped}` : ""}`,
    );
  };
  await runBatcher("auditq, brotli q5 (default), 256 KiB", "br", 100_000);
  await runBatcher("auditq, gzip, 256 KiB", "gzip", 50_000);
  await runBatcher("auditq, no compression, 256 KiB", "identity", 50_000);

  // Low traffic: 200 records/s, so lingerMs (200 ms) decides the calls, not the byte limit.
  {
    await proxy.reset();
    const batcher = new Batcher({
      sqs,
      queueUrl,
      lingerMs: 200,
      maxMessageBytes: 262_144,
      maxBatchBytes: 262_144,
      maxBufferBytes: 16 * 1024 * 1024,
      maxInflight: 4,
      retry: { baseMs: 100, maxMs: 20_000 },
      logger: silent,
      metrics: createMiddlewareMetrics(new Registry()),
      onError: (err) => console.error(err),
    });
    let n = 0;
    const end = Date.now() + 5000;
    while (Date.now() < end) {
      for (let i = 0; i < 20; i++) batcher.add(realisticRecord(n++));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await batcher.close(10_000);
    await proxy.read();
    const c = proxy.counts;
    rows.push(
      `| auditq at 200 records/s (linger-bound) | ${fmt((c.billed / n) * 1000)} | ${fmt((c.calls / n) * 1000)} | ${fmt(c.httpBytes / n, 0)} | – | – | – | – |`,
    );
  }

  console.log(
    "\n| scenario | billed requests / 1,000 records | calls / 1,000 | HTTP bytes / record | records per CPU-second | records/s wall | event-loop delay p99 / max (ms) | pump() p99 / max · encode() sync part p99 / max (ms) |",
  );
  console.log("|---|---|---|---|---|---|---|---|");
  for (const row of rows) console.log(row);

  // Memory through an outage: SQS unreachable, defaults (16 MiB buffer) and a spool.
  {
    const outageMs = Number(process.env.AUDITQ_BENCH_OUTAGE_MS ?? 30_000);
    const dir = mkdtempSync(join(tmpdir(), "auditq-bench-spool-"));
    const batcher = new Batcher({
      sqs: client("http://127.0.0.1:9"),
      queueUrl,
      lingerMs: 200,
      maxMessageBytes: 262_144,
      maxBatchBytes: 262_144,
      maxBufferBytes: 16 * 1024 * 1024,
      maxInflight: 4,
      retry: { baseMs: 100, maxMs: 20_000 },
      logger: silent,
      metrics: createMiddlewareMetrics(new Registry()),
      onError: () => undefined,
      spool: { dir, maxBytes: 64 * 1024 * 1024, afterMs: 5000 },
    });
    const records = Array.from({ length: 5000 }, (_, i) => realisticRecord(i));
    const heap0 = retainedHeap();
    const rss0 = process.memoryUsage().rss;
    let peakHeap = 0;
    let peakRss = 0;
    let peakBuffer = 0;
    let n = 0;
    const end = Date.now() + outageMs;
    let nextSample = Date.now() + 1000;
    while (Date.now() < end) {
      for (let i = 0; i < 200; i++) {
        const r = records[n++ % records.length] as ReturnType<typeof realisticRecord>;
        batcher.add({ ...r, _id: new ObjectId() });
      }
      peakBuffer = Math.max(peakBuffer, batcher.memoryBytes());
      if (Date.now() >= nextSample) {
        nextSample += 1000;
        peakHeap = Math.max(peakHeap, retainedHeap() - heap0);
        peakRss = Math.max(peakRss, process.memoryUsage().rss - rss0);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const report = await batcher.close(2000);
    rmSync(dir, { recursive: true, force: true });
    const mib = (b: number) => fmt(b / 1024 / 1024);
    console.log(
      `\noutage ${outageMs / 1000} s at ~${fmt(n / (outageMs / 1000), 0)} records/s: ` +
        `batcher memory peak ${mib(peakBuffer)} MiB (maxBufferBytes 16 MiB), ` +
        `retained heap growth peak ${mib(peakHeap)} MiB, RSS growth peak ${mib(peakRss)} MiB, ` +
        `left in spool ${report.spooled} records, dropped ${n - report.spooled} (spool.maxBytes 64 MiB)`,
    );
  }

  await admin.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
  sqs.destroy();
  admin.destroy();
  await proxy.close();
}

const proxyAt = process.argv.indexOf("--proxy");
if (proxyAt > 0) await runCountingProxy(new URL(process.argv[proxyAt + 1] as string));
else await main();

// The read side: what the sidecar's read indexes cost a write, page latency, export throughput
// and memory, and the reader's own CPU per record apart from the database.
// Run: AUDITQ_TEST_MONGODB_URI=mongodb://127.0.0.1:27017/ npm run bench:read
// (BENCH_RECORDS, default 100000; BENCH_PAGES, pages timed per filter, default 3).
import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Document } from "bson";
import { MongoClient } from "mongodb";
import { consoleLogger } from "../shared/util/logger.js";
import { SIDECAR_OPTIONS } from "../sidecar/config/option-table.js";
import { encodeCursor } from "../sidecar/read/cursor.js";
import { csvLine, ndjsonLine } from "../sidecar/read/export.js";
import { filterKey, normalizeFilter, type ReadFilter } from "../sidecar/read/filter.js";
import { buildQuery } from "../sidecar/read/query.js";
import { createReader } from "../sidecar/read/reader.js";
import { ensureIndexes } from "../sidecar/write/indexes.js";
import { realisticRecord } from "./realistic-record.js";

const URI = process.env.AUDITQ_TEST_MONGODB_URI ?? process.env.AUDITQ_MONGODB_URI;
const RECORDS = Number(process.env.BENCH_RECORDS ?? 100_000);
const PAGES = Number(process.env.BENCH_PAGES ?? 3);
const BATCH = 1000;
const PER = 100_000 / RECORDS;

if (!URI) {
  console.error('bench:read needs AUDITQ_TEST_MONGODB_URI (eval "$(scripts/services env)")');
  process.exit(2);
}

const client = new MongoClient(URI);
const db = client.db(`auditq_bench_read_${randomBytes(4).toString("hex")}`);

function records(from: number, n: number): Document[] {
  return Array.from({ length: n }, (_, i) => ({
    ...realisticRecord(from + i),
    tenant: `t-${(from + i) % 20}`,
  }));
}

/** µs per record to insert RECORDS records into `name`, with or without the default indexes. */
async function insertCost(name: string, indexed: boolean): Promise<number> {
  const col = db.collection(name);
  await col.insertOne({ warm: true });
  await col.deleteMany({});
  if (indexed) await ensureIndexes(col, SIDECAR_OPTIONS.indexes.default, 0, consoleLogger);
  let ms = 0;
  for (let i = 0; i < RECORDS; i += BATCH) {
    const docs = records(i, Math.min(BATCH, RECORDS - i));
    const t0 = performance.now();
    await col.insertMany(docs, { ordered: false });
    ms += performance.now() - t0;
  }
  return (ms * 1000) / RECORDS;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function pageLatency(filter: ReadFilter): Promise<{ first: number; next: number }> {
  const reader = createReader({
    mongo: client,
    database: db.databaseName,
    collection: "indexed",
    maxTimeMs: 0, // the page's own time, however long FerretDB takes
  });
  const first: number[] = [];
  const next: number[] = [];
  for (let p = 0; p < PAGES; p++) {
    let t0 = performance.now();
    const page = await reader.find(filter, { limit: 50 });
    first.push(performance.now() - t0);
    if (!page.next) continue;
    t0 = performance.now();
    await reader.find(filter, { limit: 50, after: page.next });
    next.push(performance.now() - t0);
  }
  return { first: median(first), next: next.length ? median(next) : Number.NaN };
}

/** Records/s and MB/s of an export into a sink that discards, and the largest heap seen. */
async function exportRate(format: "csv" | "ndjson") {
  const reader = createReader({ mongo: client, database: db.databaseName, collection: "indexed" });
  let bytes = 0;
  let peakHeap = 0;
  const baseHeap = process.memoryUsage().heapUsed;
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
      done();
    },
  });
  const t0 = performance.now();
  await pipeline(reader.export({}, { format }), sink);
  const s = (performance.now() - t0) / 1000;
  return {
    perSecond: RECORDS / s,
    mbPerSecond: bytes / 1e6 / s,
    heapMb: (peakHeap - baseHeap) / 1e6,
  };
}

/** The reader's own CPU per record, on records already in memory: no driver, no server. */
function readerCpu(): Record<string, number> {
  const docs = records(0, 20_000);
  const per = (fn: () => void, n: number) => {
    fn(); // warm
    const t0 = process.cpuUsage();
    fn();
    const used = process.cpuUsage(t0);
    return (used.user + used.system) / n;
  };
  const filter: ReadFilter = { actor: "user-7", status: "failed", from: "2026-01-01" };
  return {
    "csv line": per(() => docs.forEach(csvLine), docs.length),
    "ndjson line": per(() => docs.forEach(ndjsonLine), docs.length),
    // A page of 50: check the filter, build the query, write the cursor; per returned record.
    "find page overhead": per(() => {
      for (let i = 0; i < 400; i++) {
        const n = normalizeFilter(filter);
        const key = filterKey(n);
        buildQuery(n, "desc");
        encodeCursor(docs[i]?._id, "desc", key);
      }
    }, 400 * 50),
  };
}

try {
  const plain = await insertCost("plain", false);
  const indexed = await insertCost("indexed", true);
  const buildInfo = await db.admin().command({ buildInfo: 1 });
  const server = buildInfo.ferretdbVersion
    ? `FerretDB ${buildInfo.ferretdbVersion}`
    : `MongoDB ${buildInfo.version}`;
  console.log(`bench:read on ${server}, ${RECORDS} records`);
  if (RECORDS !== 100_000) {
    console.log(`(the target is per 100,000 records: a scanning server's page time grows ×${PER})`);
  }
  console.log(`insert, no secondary index: ${plain.toFixed(1)} µs/record`);
  console.log(
    `insert, the ${SIDECAR_OPTIONS.indexes.default.length} default indexes: ${indexed.toFixed(1)} µs/record (+${(indexed - plain).toFixed(1)} µs)`,
  );
  const explain = await db
    .collection("indexed")
    .find({ "actor.id": "user-7" })
    .sort({ _id: -1 })
    .limit(51)
    .explain();
  if (explain.filterPushdown === false) {
    console.log(
      "page latency: FerretDB pushes no filter, sort or limit down (explain: filterPushdown false), so a page reads the whole collection; it grows with the collection, not the page",
    );
  }
  const filters: [string, ReadFilter][] = [
    ["newest, no filter", {}],
    ["actor", { actor: "user-7" }],
    ["action + tenant", { action: "GET /orders/:id", tenant: "t-3" }],
    ["status failed", { status: "failed" }],
    ["requestId (no match)", { requestId: "none" }],
  ];
  for (const [name, filter] of filters) {
    const { first, next } = await pageLatency(filter);
    const shown = (ms: number) => (Number.isNaN(ms) ? "-" : `${ms.toFixed(0)} ms`);
    console.log(
      `page of 50, ${name}: first ${shown(first)}, next ${shown(next)} (median of ${PAGES})`,
    );
  }
  for (const format of ["ndjson", "csv"] as const) {
    const r = await exportRate(format);
    console.log(
      `export ${format}: ${r.perSecond.toFixed(0)} records/s, ${r.mbPerSecond.toFixed(1)} MB/s, heap at most +${r.heapMb.toFixed(1)} MB`,
    );
  }
  for (const [name, us] of Object.entries(readerCpu())) {
    console.log(`reader CPU, ${name}: ${us.toFixed(2)} µs/record (target ≤ 10)`);
  }
} finally {
  await db.dropDatabase();
  await client.close();
}

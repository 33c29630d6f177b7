// `npm run bench:verify`: the verifier's own CPU per record (hashing, merge-joins, bookkeeping),
// apart from the database: records and digests of one closed stream served from memory as
// MongoDB would return them (EXACT_READ), minus the cost of serving them alone. Target: about
// 10 µs per record on 1,000,000 records (issue 21).
//
// BENCH_RECORDS (default 1000000) shortens a run. BENCH_DB_RECORDS=n (with the services'
// AUDITQ_TEST_MONGODB_URI) also times reading n stored records sorted by seq, the database's part.
import { randomBytes } from "node:crypto";
import { BSON, type Document, Int32, ObjectId } from "bson";
import { MongoClient } from "mongodb";
import { documentHash, EXACT_READ } from "../sidecar/verify/canonical.js";
import {
  type ChainHead,
  chainDigests,
  digestHash,
  messageDigests,
  type StoredEntry,
} from "../sidecar/verify/digest.js";
import { type VerifySources, verifyTrail } from "../sidecar/verify/verify.js";
import { realisticRecord } from "./realistic-record.js";

const RECORDS = Number(process.env.BENCH_RECORDS ?? 1_000_000);
const DB_RECORDS = Number(process.env.BENCH_DB_RECORDS ?? 0);
const PER_MESSAGE = 500;
const POOL = 2_000;
const stream = randomBytes(16).toString("base64url");
const prefix = randomBytes(4);

/** Records as MongoDB returns them with EXACT_READ, to copy from. */
const pool = Array.from({ length: POOL }, (_, i) => {
  const { _id, ...rest } = BSON.deserialize(BSON.serialize(realisticRecord(i)), EXACT_READ);
  return rest;
});

/** Record `i` (0-based), the same every time it is made. */
function record(i: number): Document {
  const id = Buffer.alloc(12);
  prefix.copy(id, 0);
  id.writeUIntBE(i, 6, 6);
  return { _id: new ObjectId(id), ...pool[i % POOL], seq: { stream, n: new Int32(i + 1) } };
}

function makeDigests(): Document[] {
  const digests: Document[] = [];
  let head: ChainHead = { k: 0, hash: null };
  for (let i = 0; i < RECORDS; i += PER_MESSAGE) {
    const entries: StoredEntry[] = [];
    for (let j = i; j < Math.min(RECORDS, i + PER_MESSAGE); j++) {
      const doc = record(j);
      entries.push({ id: doc._id, stream, n: j + 1, hash: documentHash(doc) });
    }
    const [digest] = chainDigests(messageDigests(entries, undefined), head, "bench", undefined);
    if (!digest) continue;
    head = { k: digest.k, hash: digestHash(digest) };
    digests.push(BSON.deserialize(BSON.serialize(digest), EXACT_READ));
  }
  return digests;
}

async function* records(): AsyncGenerator<Document> {
  for (let i = 0; i < RECORDS; i++) yield record(i);
}
async function* list(docs: readonly Document[]): AsyncGenerator<Document> {
  yield* docs;
}

function sources(digests: readonly Document[]): VerifySources {
  return {
    chainDigests: () => list(digests),
    streamDigests: () => list(digests),
    looseDigests: () => list([]),
    streamRecords: records,
    looseRecords: () => list([]),
    streams: () => list([{ _id: stream, hwm: new Int32(RECORDS), end: true, lost: [] }]),
    cutoff: async () => undefined,
  };
}

const cpuUs = (since: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(since);
  return d.user + d.system;
};

console.log(`bench:verify: ${RECORDS.toLocaleString("en")} records, messages of ${PER_MESSAGE}`);
const digests = makeDigests();
// Serving alone: every source iterated as verify would, nothing checked.
let cpu = process.cpuUsage();
for await (const _ of records());
for (const _ of digests);
const serving = cpuUs(cpu);
cpu = process.cpuUsage();
const start = performance.now();
const report = await verifyTrail(sources(digests));
const total = cpuUs(cpu);
const seconds = (performance.now() - start) / 1000;
if (!report.ok || report.records !== RECORDS) {
  throw new Error(
    `expected a clean report of ${RECORDS} records: ${JSON.stringify(report).slice(0, 500)}`,
  );
}
const perRecord = (total - serving) / RECORDS;
console.log(`verify's own CPU: ${perRecord.toFixed(2)} µs per record (target ≤ ~10 µs)`);
console.log(
  `  with serving: ${(total / RECORDS).toFixed(2)} µs; serving alone ${(serving / RECORDS).toFixed(2)} µs; ${seconds.toFixed(1)} s wall`,
);
console.log(
  `  heap used at the end: ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB (the digests held for the bench, not by verify)`,
);

if (DB_RECORDS > 0) {
  const uri = process.env.AUDITQ_TEST_MONGODB_URI;
  if (!uri)
    throw new Error(
      'BENCH_DB_RECORDS needs AUDITQ_TEST_MONGODB_URI (eval "$(scripts/services env)")',
    );
  const mongo = await MongoClient.connect(uri);
  const db = mongo.db(`bench_verify_${Date.now().toString(36)}`);
  try {
    const coll = db.collection("records");
    for (let i = 0; i < DB_RECORDS; i += 1000) {
      await coll.insertMany(
        Array.from({ length: Math.min(1000, DB_RECORDS - i) }, (_, j) => record(i + j)),
      );
    }
    await coll.createIndex({ "seq.stream": 1, "seq.n": 1 });
    const readStart = performance.now();
    cpu = process.cpuUsage();
    let read = 0;
    for await (const _ of coll.find({}, EXACT_READ).sort({ "seq.stream": 1, "seq.n": 1 })) read++;
    const readSeconds = (performance.now() - readStart) / 1000;
    console.log(
      `database read of ${read.toLocaleString("en")} records sorted by seq: ${((readSeconds * 1e6) / read).toFixed(1)} µs wall, ${(cpuUs(cpu) / read).toFixed(1)} µs client CPU per record`,
    );
  } finally {
    await db.dropDatabase();
    await mongo.close();
  }
}

// `npm run bench:digest`: what digests cost the sidecar. The same backlog drained by the sidecar
// with `digests: false` and `digests: true` (rounds alternating, same FerretDB and ElasticMQ),
// CPU per record until the queue is empty, as a ratio per round (the median of the rounds'
// ratios is the figure); then the digest work alone (hashing each record, building and chaining
// the digests) per record, and the floor of any per-record hash (bench/digest-floor.ts). Target:
// ≤ 1.10× (issue 21).
//
// BENCH_RECORDS (default 40000) and BENCH_ROUNDS (default 3) shorten a run.
import { randomBytes } from "node:crypto";
import { type Document, MongoClient } from "mongodb";
import type { PendingDoc } from "../sidecar/receive/record-buffer.js";
import { chainDigests, messageDigests } from "../sidecar/verify/digest.js";
import { noteStored } from "../sidecar/write/digest-writer.js";
import { digestFloor } from "./digest-floor.js";
import { realisticRecord } from "./realistic-record.js";
import { decodedDocuments, drain, encodeMessages, PER_MESSAGE, uid } from "./sidecar-drain.js";

const RECORDS = Number(process.env.BENCH_RECORDS ?? 40_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const sqsEndpoint = process.env.AUDITQ_TEST_SQS_ENDPOINT;
const mongoUri = process.env.AUDITQ_TEST_MONGODB_URI;
if (!sqsEndpoint || !mongoUri) {
  console.error(
    'bench:digest: set AUDITQ_TEST_SQS_ENDPOINT and AUDITQ_TEST_MONGODB_URI (eval "$(scripts/services env)")',
  );
  process.exit(2);
}

const stream = randomBytes(16).toString("base64url");
const records = Array.from({ length: RECORDS }, (_, i) => ({
  ...realisticRecord(i),
  seq: { stream, n: i + 1 },
}));
const bodies = await encodeMessages(records, "br");

/** µs of CPU per record for the digest work alone, on the documents the sidecar would insert. */
async function digestWorkAlone(): Promise<number> {
  const docs = await decodedDocuments(bodies);
  const cpu = process.cpuUsage();
  let head = { k: 0, hash: null as Buffer | null };
  for (let i = 0; i < docs.length; i += PER_MESSAGE) {
    const owner = { stored: undefined } as unknown as PendingDoc["owner"];
    for (const doc of docs.slice(i, i + PER_MESSAGE))
      noteStored({ doc: doc as Document, owner, index: 0 });
    const chained = chainDigests(
      messageDigests(owner.stored ?? [], undefined),
      head,
      "bench",
      undefined,
    );
    const last = chained[chained.length - 1];
    if (last) head = { k: last.k, hash: Buffer.alloc(32) };
  }
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / docs.length;
}

const mongo = await MongoClient.connect(mongoUri);
const db = `bench_digest_${uid()}`;
const off: number[] = [];
const on: number[] = [];
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const digests of round % 2 === 0 ? [false, true] : [true, false]) {
      const result = await drain(sqsEndpoint, mongo, db, bodies, RECORDS, { digests });
      (digests ? on : off).push(result.drainedCpuUsPerRecord);
      console.log(
        `round ${round + 1} digests ${digests ? "on " : "off"}: ${result.drainedCpuUsPerRecord.toFixed(1)} µs CPU/record, drained in ${result.drainedSeconds.toFixed(1)} s`,
      );
    }
  }
  const alone = [await digestWorkAlone(), await digestWorkAlone(), await digestWorkAlone()];
  // Each round drains off and on back to back: a round's ratio sees one load, the median of
  // the rounds' ratios resists a round the machine's other work slowed down.
  const ratios = on.map((x, i) => x / (off[i] as number));
  console.log(
    `\nsidecar CPU per record, digests on / off (median of ${ROUNDS} rounds' ratios): ${median(ratios).toFixed(3)}× (target ≤ 1.10×)`,
  );
  console.log(`  rounds: ${ratios.map((r) => `${r.toFixed(2)}×`).join(", ")}`);
  console.log(
    `  medians: off ${median(off).toFixed(1)} µs, on ${median(on).toFixed(1)} µs (ratio of medians ${(median(on) / median(off)).toFixed(3)}×)`,
  );
  console.log(`digest work alone: ${median(alone).toFixed(2)} µs CPU per record`);
  const floor = digestFloor((await decodedDocuments(bodies)) as Document[]);
  const least = floor.canonical + floor.sha256;
  console.log(
    `floor of a per-record hash: canonical bytes ${floor.canonical.toFixed(2)} µs (bson.serialize ${floor.bsonSerialize.toFixed(2)} µs) + SHA-256 ${floor.sha256.toFixed(2)} µs = ${least.toFixed(2)} µs per record: at least ${((median(off) + least) / median(off)).toFixed(3)}× over this run's digests-off median`,
  );
} finally {
  await mongo.db(db).dropDatabase();
  await mongo.close();
}

// Hostile messages against the sidecar process on real services: decompression bombs, poison records.
import { promisify } from "node:util";
import { brotliCompress, constants } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { envelopeAttributes } from "../../shared/envelope.js";
import { freePort } from "../helpers/processes.js";
import {
  createTestDb,
  createTestQueue,
  mongoUri,
  type SqsTarget,
  sqsTargets,
  type TestDb,
  type TestQueue,
  waitFor,
} from "../helpers/services.js";
import { type CliProcess, ops, sendBodies, sendRecords, spawnCli } from "./sidecar-fixtures.js";

const target = sqsTargets()[0] as SqsTarget;
const brotli = promisify(brotliCompress);

/** `{"auditq":1,"records":[{},{},...]}` of about `bytes` bytes, brotli-compressed and base64. */
async function recordBomb(bytes: number): Promise<string> {
  const n = Math.floor((bytes - 32) / 3);
  const text = Buffer.from(`{"auditq":1,"records":[${"{},".repeat(n - 1)}{}]}`);
  const params = { [constants.BROTLI_PARAM_QUALITY]: 5 };
  return (await brotli(text, { params })).toString("base64");
}

describe(`sidecar process under hostile messages (${target.name})`, () => {
  let queue: TestQueue;
  let mongo: TestDb;
  const children: CliProcess[] = [];

  beforeEach(async () => {
    queue = await createTestQueue(target);
    mongo = await createTestDb();
  });

  afterEach(async () => {
    for (const c of children.splice(0)) {
      if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill("SIGKILL");
      await c.exited;
    }
    await queue.dispose();
    await mongo.dispose();
  });

  it("quarantines record bombs and writes the good messages, on a 256 MiB heap", async () => {
    // 64 MiB of `{},` (over the decoded-bytes cap) and 30 MiB of it (under the cap, over the
    // record limit): each would be millions of objects if parsed.
    const bombs = [await recordBomb(64 * 1024 * 1024), await recordBomb(30 * 1024 * 1024)];
    expect(Math.max(...bombs.map((b) => b.length))).toBeLessThan(4096);
    const before = await sendRecords(queue.sqs, queue.queueUrl, 250, 50);
    await sendBodies(queue.sqs, queue.queueUrl, bombs, envelopeAttributes("br"));
    const after = await sendRecords(queue.sqs, queue.queueUrl, 200, 50);
    const port = await freePort();
    const c = spawnCli(target.endpoint, {
      AUDITQ_QUEUE_URL: queue.queueUrl,
      AUDITQ_MONGODB_URI: mongoUri(),
      AUDITQ_DATABASE: mongo.name,
      AUDITQ_METRICS_PORT: String(port),
      AUDITQ_WAIT_TIME_SECONDS: "1",
      NODE_OPTIONS: "--max-old-space-size=256",
    });
    children.push(c);
    const records = mongo.db.collection("records");
    const quarantine = mongo.db.collection("records_quarantine");
    await waitFor(
      "the good records, two quarantined bombs and an empty queue",
      async () => ({
        docs: await records.countDocuments(),
        quarantined: await quarantine.countDocuments(),
        queue: await queue.depth(),
        exit: c.child.exitCode ?? c.child.signalCode,
      }),
      (s) =>
        s.exit !== null ||
        (s.docs === 450 && s.quarantined === 2 && s.queue.visible + s.queue.inflight === 0),
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    expect(c.child.exitCode ?? c.child.signalCode, c.output()).toBeNull();
    expect(await records.countDocuments({ _id: { $in: [...before, ...after] } })).toBe(450);
    const reasons = (await quarantine.find().toArray()).map((e) => String(e.error?.message));
    expect(reasons.sort()).toEqual([
      expect.stringMatching(/decompresses to more than 33554432 bytes/),
      expect.stringMatching(/more than 10000 records/),
    ]);
    const metrics = (await ops(port, "/metrics")).body;
    expect(metrics).toMatch(/^auditq_sidecar_messages_quarantined_total 2$/m);
  });
});

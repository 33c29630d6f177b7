// Sequence numbers and loss statements end to end on real servers: every stream's records
// 1..hwm are stored and its end is marked; a buffer-full drop arrives as a loss statement with
// its exact range; durability "disk" continues the stream across a restart on the same spool.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ObjectId } from "mongodb";
import { Registry } from "prom-client";
import request from "supertest";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { auditq } from "../../middleware/index.js";
import type { Sidecar } from "../../sidecar/index.js";
import { createApp } from "../helpers/app.js";
import { testBatcher } from "../helpers/batcher-config.js";
import { silentLogger } from "../helpers/logger.js";
import {
  createTestDb,
  createTestQueue,
  type SqsTarget,
  sqsClient,
  sqsTargets,
  type TestDb,
  type TestQueue,
} from "../helpers/services.js";
import { testSidecar } from "../helpers/sidecar-rig.js";
import { oneTo, storedNumbers, streamDocs } from "../helpers/streams.js";
import { untilStored } from "../helpers/until-stored.js";

const record = (pad = 0) => ({ _id: new ObjectId(), ts: new Date(), pad: "x".repeat(pad) });

describe.each(sqsTargets())("producer streams on $name", (target: SqsTarget) => {
  let queue: TestQueue;
  let mongo: TestDb;
  let sidecar: Sidecar | undefined;
  const dirs: string[] = [];

  beforeEach(async () => {
    queue = await createTestQueue(target);
    mongo = await createTestDb();
  });

  afterEach(async () => {
    await sidecar?.stop();
    sidecar = undefined;
    await queue.dispose();
    await mongo.dispose();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  async function store(records: number): Promise<void> {
    sidecar = testSidecar(target, queue, mongo);
    await sidecar.start();
    await untilStored({ queue, mongo }, { records, quarantined: 0 });
  }

  it("stores every stream's records 1..hwm and marks its end after a clean close", async () => {
    const ids: string[] = [];
    for (const requests of [30, 17]) {
      const audit = auditq({
        queueUrl: queue.queueUrl,
        sqs: sqsClient(target),
        logger: silentLogger,
        spool: false,
        registry: new Registry(),
      });
      const app = createApp(audit);
      for (let i = 0; i < requests; i++) await request(app).get(`/orders/${i}`).expect(200);
      await audit.close();
    }
    await store(47);
    const streams = await streamDocs(mongo.db);
    expect(streams.size).toBe(2);
    const hwms: number[] = [];
    for (const [id, doc] of streams) {
      ids.push(id);
      hwms.push(doc.hwm);
      expect(doc.end).toBe(true);
      expect(doc.lost).toBeUndefined();
      expect(await storedNumbers(mongo.db, id)).toEqual(oneTo(doc.hwm));
    }
    expect(hwms.sort((a, b) => a - b)).toEqual([17, 30]);
    const v = await mongo.db.collection("records").distinct("v");
    expect(v).toEqual([2]);
  });

  it("states a buffer-full drop with its exact range and reason", async () => {
    const { batcher } = testBatcher(sqsClient(target), {
      queueUrl: queue.queueUrl,
      maxMessageBytes: 262_144,
      maxBatchBytes: 262_144,
      maxBufferBytes: 1000,
    });
    const added = Array.from({ length: 6 }, () => batcher.add(record(300)));
    expect(added).toEqual([true, true, false, false, false, false]);
    await batcher.flush();
    expect(batcher.add(record(10))).toBe(true);
    await batcher.close(10_000);
    await store(3);
    const doc = (await streamDocs(mongo.db)).get(batcher.stream.id);
    expect(doc).toMatchObject({
      hwm: 7,
      end: true,
      lost: [{ from: 3, to: 6, reason: "buffer-full" }],
    });
    expect(await storedNumbers(mongo.db, batcher.stream.id)).toEqual([1, 2, 7]);
  });

  it("continues the stream across a restart on the same spool with durability disk", async () => {
    const dir = mkdtempSync(join(tmpdir(), "auditq-stream-"));
    dirs.push(dir);
    const spool = { dir, maxBytes: 1 << 20, afterMs: 0 };
    // SQS unreachable: the records stay in the spool for the next process.
    const offline = testBatcher(sqsClient({ ...target, endpoint: "http://127.0.0.1:9" }), {
      queueUrl: queue.queueUrl,
      spool,
      durability: "disk",
      lingerMs: 10,
    });
    for (let i = 0; i < 5; i++) offline.batcher.add(record());
    const first = await offline.batcher.close(1000);
    expect(first.spooled).toBe(5);
    const online = testBatcher(sqsClient(target), {
      queueUrl: queue.queueUrl,
      spool,
      durability: "disk",
      lingerMs: 10,
    });
    await online.batcher.flush(); // the spool is open and the stream resumed
    for (let i = 0; i < 3; i++) online.batcher.add(record());
    expect(await online.batcher.close(10_000)).toMatchObject({ spooled: 0, dropped: 0 });
    expect(online.batcher.stream.id).toBe(offline.batcher.stream.id);
    await store(8);
    const streams = await streamDocs(mongo.db);
    expect([...streams.keys()]).toEqual([offline.batcher.stream.id]);
    expect(streams.get(offline.batcher.stream.id)).toMatchObject({ hwm: 8, end: true });
    expect(await storedNumbers(mongo.db, offline.batcher.stream.id)).toEqual(oneTo(8));
  });
});

// SQS down for 20 s in the middle of a stream: nothing waits, the spool takes the overflow,
// and every record reaches MongoDB exactly once when SQS is back.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ObjectId } from "bson";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Sidecar } from "../../../sidecar/index.js";
import { FULL_CALL, testBatcher } from "../../helpers/batcher-config.js";
import {
  createTestDb,
  createTestQueue,
  sqsClient,
  sqsTargets,
  type TestDb,
  type TestQueue,
  waitFor,
} from "../../helpers/services.js";
import { testSidecar } from "../../helpers/sidecar-rig.js";
import { startTcpProxy, type TcpProxy } from "../../helpers/tcp-proxy.js";

const OUTAGE_MS = 20_000;

describe.each(sqsTargets())("batcher through an SQS outage on $name", (target) => {
  let queue: TestQueue;
  let mongo: TestDb;
  let proxy: TcpProxy;
  let spoolDir: string;
  let sidecar: Sidecar | undefined;

  beforeEach(async () => {
    queue = await createTestQueue(target);
    mongo = await createTestDb();
    proxy = await startTcpProxy(target.endpoint);
    spoolDir = mkdtempSync(join(tmpdir(), "auditq-outage-"));
  });

  afterEach(async () => {
    await sidecar?.stop();
    await proxy.close();
    await queue.dispose();
    await mongo.dispose();
    rmSync(spoolDir, { recursive: true, force: true });
  });

  it(
    "delivers every record exactly once after SQS comes back",
    async () => {
      const { batcher, errors } = testBatcher(sqsClient({ name: "proxy", endpoint: proxy.url }), {
        ...FULL_CALL,
        queueUrl: queue.queueUrl,
        maxBufferBytes: 4 * 1024 * 1024,
        maxInflight: 4,
        retry: { baseMs: 100, maxMs: 2000 },
        // The option's default, as an app runs it (testBatcher's is "identity").
        compression: undefined,
        sendTimeoutMs: 5000,
        spool: { dir: spoolDir, maxBytes: 256 * 1024 * 1024, afterMs: 2000 },
      });
      const ids: string[] = [];
      let maxSpooled = 0;
      /** About 400 records a second, for `ms`: the load, not a synchronisation. */
      const produce = async (ms: number) => {
        const end = Date.now() + ms;
        while (Date.now() < end) {
          for (let i = 0; i < 40; i++) {
            const _id = new ObjectId();
            ids.push(String(_id));
            expect(batcher.add({ _id, ts: new Date(), action: "GET /x", n: ids.length })).toBe(
              true,
            );
          }
          maxSpooled = Math.max(maxSpooled, batcher.spooledRecords ?? 0);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      };

      await produce(2000);
      await proxy.pause();
      await produce(OUTAGE_MS);
      await proxy.resume();
      await produce(2000);
      await batcher.flush();
      const report = await batcher.close(10_000);

      expect(maxSpooled).toBeGreaterThan(0);
      expect(report).toEqual({ sent: ids.length, spooled: 0, dropped: 0 });
      expect(errors.map((e) => e.code)).toContain("ERR_AUDITQ_SQS");
      expect(
        errors.filter((e) => e.code !== "ERR_AUDITQ_SQS").map((e) => `${e.code}: ${e.message}`),
      ).toEqual([]);

      sidecar = testSidecar(target, queue, mongo);
      await sidecar.start();
      const records = mongo.db.collection("records");
      await waitFor(
        "every record in MongoDB",
        () => records.countDocuments(),
        (n) => n >= ids.length,
        { timeoutMs: 60_000, intervalMs: 250 },
      );
      await waitFor(
        "the queue to be empty",
        () => queue.depth(),
        (d) => d.visible === 0 && d.inflight === 0,
        { timeoutMs: 30_000, intervalMs: 250 },
      );
      const stored = await records.find({}, { projection: { _id: 1 } }).toArray();
      expect(stored).toHaveLength(ids.length);
      expect(new Set(stored.map((d) => String(d._id)))).toEqual(new Set(ids));
    },
    OUTAGE_MS + 90_000,
  );
});

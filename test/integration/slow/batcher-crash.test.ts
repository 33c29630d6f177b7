// kill -9 of a producer whose spool holds records (possibly mid-write): the next process
// started on the same spool directory delivers them, and a torn tail does not stop it; two
// producers on one default spool directory, both killed, are delivered by one new process.
import type { ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Sidecar } from "../../../sidecar/index.js";
import { freePort } from "../../helpers/processes.js";
import { killAll, killHard, startScript } from "../../helpers/script-child.js";
import {
  createTestDb,
  createTestQueue,
  sqsTargets,
  type TestDb,
  type TestQueue,
  waitFor,
} from "../../helpers/services.js";
import { testSidecar } from "../../helpers/sidecar-rig.js";
import { startTcpProxy, type TcpProxy } from "../../helpers/tcp-proxy.js";

const PRODUCER = fileURLToPath(new URL("../../helpers/batcher-producer.ts", import.meta.url));

const producer = (env: Record<string, string>) => startScript(PRODUCER, env);

/** Segment files under a spool base directory, by slot. */
function segmentsBySlot(base: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const slot of readdirSync(base).filter((n) => n.startsWith("slot-"))) {
    out[slot] = readdirSync(join(base, slot)).filter((n) => n.endsWith(".aqs")).length;
  }
  return out;
}

const totalSegments = (base: string) =>
  Object.values(segmentsBySlot(base)).reduce((a, b) => a + b, 0);

describe.each(sqsTargets())("producer killed with a non-empty spool on $name", (target) => {
  let queue: TestQueue;
  let mongo: TestDb;
  let spoolDir: string;
  let sidecar: Sidecar | undefined;
  let proxy: TcpProxy | undefined;
  const children: ChildProcess[] = [];

  beforeEach(async () => {
    queue = await createTestQueue(target);
    mongo = await createTestDb();
    spoolDir = mkdtempSync(join(tmpdir(), "auditq-crash-"));
  });

  afterEach(async () => {
    await killAll(children);
    await sidecar?.stop();
    sidecar = undefined;
    await proxy?.close();
    proxy = undefined;
    await queue.dispose();
    await mongo.dispose();
    rmSync(spoolDir, { recursive: true, force: true });
  });

  interface CloseReportLine {
    report: { sent: number; spooled: number; dropped: number };
  }

  /** The close report a producer child printed as its last line, once it has exited with 0. */
  async function exitReport(proc: { child: ChildProcess; lines: unknown[] }) {
    const [code] = await once(proc.child, "exit");
    expect(code).toBe(0);
    return (proc.lines.at(-1) as CloseReportLine).report;
  }

  /** Starts a sidecar and waits until MongoDB holds `sent` records, then checks it holds no more. */
  async function expectStored(what: string, sent: number) {
    sidecar = testSidecar(target, queue, mongo);
    await sidecar.start();
    const records = mongo.db.collection("records");
    const stored = await waitFor(
      what,
      () => records.countDocuments(),
      (n) => n >= sent,
      {
        timeoutMs: 30_000,
        intervalMs: 200,
      },
    );
    expect(stored).toBe(sent);
    return records;
  }

  it("is delivered by the next process on the same spool", async () => {
    // Nothing listens on this port: SQS is "down" for the first process.
    const down = `http://127.0.0.1:${await freePort()}`;
    const first = producer({
      MODE: "produce",
      QUEUE_URL: queue.queueUrl,
      SQS_ENDPOINT: down,
      SPOOL_DIR: spoolDir,
    });
    children.push(first.child);
    const spooledNow = () =>
      Promise.resolve((first.lines.at(-1) as { spooled?: number } | undefined)?.spooled ?? 0);
    const durable = await waitFor(
      "records in the first process's spool",
      spooledNow,
      (n) => n >= 500,
      {
        timeoutMs: 40_000,
        intervalMs: 20,
      },
    );
    // Still producing and spooling while killed: the last append may be torn.
    await killHard(first.child);
    expect(segmentsBySlot(spoolDir)["slot-0"]).toBeGreaterThan(0);

    const second = producer({
      MODE: "deliver",
      QUEUE_URL: queue.queueUrl,
      SQS_ENDPOINT: target.endpoint,
      SPOOL_DIR: spoolDir,
    });
    children.push(second.child);
    const report = await exitReport(second);
    expect(report.spooled).toBe(0);
    expect(report.dropped).toBe(0);
    expect(report.sent).toBeGreaterThanOrEqual(durable);
    expect(totalSegments(spoolDir)).toBe(0);

    const records = await expectStored("the spooled records in MongoDB", report.sent);
    expect(await records.countDocuments({ action: "GET /orders/:id" })).toBe(report.sent);
  }, 90_000);

  it("SIGTERM with closeOnSignals: close() spools what SQS did not take, then the process exits", async () => {
    const down = `http://127.0.0.1:${await freePort()}`;
    const proc = producer({
      MODE: "signal",
      QUEUE_URL: queue.queueUrl,
      SQS_ENDPOINT: down,
      SPOOL_DIR: spoolDir,
    });
    children.push(proc.child);
    await waitFor(
      "the producer to have sent its requests",
      () => Promise.resolve(proc.lines.length),
      (n) => n > 0,
      { timeoutMs: 30_000, intervalMs: 20 },
    );
    const exited = once(proc.child, "exit");
    proc.child.kill("SIGTERM");
    const [code, signal] = await exited;
    expect({ code, signal }).toEqual({ code: null, signal: "SIGTERM" });

    const next = producer({
      MODE: "deliver",
      QUEUE_URL: queue.queueUrl,
      SQS_ENDPOINT: target.endpoint,
      SPOOL_DIR: spoolDir,
    });
    children.push(next.child);
    await once(next.child, "exit");
    const { report } = next.lines.at(-1) as { report: { sent: number; spooled: number } };
    expect(report).toMatchObject({ sent: 200, spooled: 0 });
  }, 60_000);

  it("two producers on one default spool directory, both killed: one new process delivers all", async () => {
    // TMPDIR of the children: the default spool is <TMPDIR>/auditq-spool-<uid>/<sha256(queueUrl)[0:16]>.
    const hash = createHash("sha256").update(queue.queueUrl).digest("hex").slice(0, 16);
    const base = join(spoolDir, `auditq-spool-${process.getuid?.()}`, hash);
    proxy = await startTcpProxy(target.endpoint);
    await proxy.pause(); // SQS is down for both producers
    const producers = ["a-", "b-"].map((prefix) =>
      producer({
        MODE: "produce",
        QUEUE_URL: queue.queueUrl,
        SQS_ENDPOINT: (proxy as TcpProxy).url,
        TMPDIR: spoolDir,
        ID_PREFIX: prefix,
      }),
    );
    for (const p of producers) children.push(p.child);
    const durable: number[] = [];
    for (const p of producers) {
      durable.push(
        await waitFor(
          "records in a producer's default spool (after the default spool.afterMs, 5 s)",
          () => Promise.resolve((p.lines.at(-1) as { spooled?: number } | undefined)?.spooled ?? 0),
          (n) => n >= 300,
          { timeoutMs: 40_000, intervalMs: 20 },
        ),
      );
    }
    for (const p of producers) {
      await killHard(p.child);
    }
    const left = segmentsBySlot(base);
    expect(Object.keys(left).sort()).toEqual(["slot-0", "slot-1"]);
    expect(left["slot-0"]).toBeGreaterThan(0);
    expect(left["slot-1"]).toBeGreaterThan(0);

    await proxy.resume();
    const next = producer({
      MODE: "deliver",
      QUEUE_URL: queue.queueUrl,
      SQS_ENDPOINT: proxy.url,
      TMPDIR: spoolDir,
    });
    children.push(next.child);
    const report = await exitReport(next);
    expect(report).toMatchObject({ spooled: 0, dropped: 0 });
    expect(report.sent).toBeGreaterThanOrEqual((durable[0] as number) + (durable[1] as number));
    expect(totalSegments(base)).toBe(0);

    const records = await expectStored("both producers' spooled records in MongoDB", report.sent);
    // Each request was captured once: one document per path, none twice, none lost.
    for (const [i, prefix] of ["a-", "b-"].entries()) {
      const filter = { "request.path": { $regex: `^/orders/${prefix}` } };
      const count = await records.countDocuments(filter);
      expect(count).toBeGreaterThanOrEqual(durable[i] as number);
      expect((await records.distinct("request.path", filter)).length).toBe(count);
    }
  }, 120_000);
});

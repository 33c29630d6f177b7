// An app in memory mode killed with SIGKILL under traffic leaves its stream without an end
// mark, and what it did send is stored without holes: 1..last stored, the rest (numbered, still
// in memory) beyond it, at most up to the high-water mark its messages carried.
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Sidecar } from "../../../sidecar/index.js";
import { killAll, killHard, startScript } from "../../helpers/script-child.js";
import {
  createTestDb,
  createTestQueue,
  type SqsTarget,
  sqsTargets,
  type TestDb,
  type TestQueue,
  waitFor,
} from "../../helpers/services.js";
import { testSidecar } from "../../helpers/sidecar-rig.js";
import { oneTo, storedNumbers, streamDocs } from "../../helpers/streams.js";

const APP = fileURLToPath(new URL("../../helpers/killable-app.ts", import.meta.url));

describe("an app in memory mode killed with SIGKILL", () => {
  const target = sqsTargets()[0] as SqsTarget;
  let queue: TestQueue;
  let mongo: TestDb;
  let spoolDir: string;
  let sidecar: Sidecar | undefined;
  const children: ChildProcess[] = [];

  beforeEach(async () => {
    queue = await createTestQueue(target);
    mongo = await createTestDb();
    spoolDir = mkdtempSync(join(tmpdir(), "auditq-streamkill-"));
  });

  afterEach(async () => {
    await killAll(children);
    await sidecar?.stop();
    sidecar = undefined;
    await queue.dispose();
    await mongo.dispose();
    rmSync(spoolDir, { recursive: true, force: true });
  });

  it("leaves its stream unclosed, with no hole below the last record stored", async () => {
    sidecar = testSidecar(target, queue, mongo);
    await sidecar.start();
    const { child, firstLine } = startScript(APP, {
      MODE: "serve",
      DURABILITY: "memory",
      QUEUE_URL: queue.queueUrl,
      SQS_ENDPOINT: target.endpoint,
      SPOOL_DIR: spoolDir,
    });
    children.push(child);
    const { port } = (await firstLine) as { port: number };
    let stop = false;
    let answered = 0;
    const traffic = (async () => {
      for (let i = 0; !stop; i++) {
        try {
          const res = await fetch(`http://127.0.0.1:${port}/orders/${i}`);
          await res.arrayBuffer();
          answered++;
        } catch (err) {
          // Killed under this request: traffic ends here.
          expect(String(err)).toMatch(/fetch failed|ECONNRESET|socket/i);
          return;
        }
      }
    })();
    // Some records stored, so the stream is known, and traffic still flowing at the kill.
    await waitFor(
      "records stored",
      () => mongo.db.collection("records").countDocuments(),
      (n) => n >= 20,
    );
    await killHard(child);
    stop = true;
    await traffic;
    await waitFor(
      "the queue drained into MongoDB",
      () => queue.depth(),
      (d) => d.visible === 0 && d.inflight === 0,
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    const streams = await streamDocs(mongo.db);
    expect(streams.size).toBe(1);
    const [id, doc] = [...streams][0] ?? ["", { hwm: 0 }];
    expect(doc.end).toBeUndefined();
    const stored = await storedNumbers(mongo.db, id);
    const last = stored[stored.length - 1] as number;
    expect(stored).toEqual(oneTo(last));
    expect(last).toBeLessThanOrEqual(doc.hwm);
    expect(answered).toBeGreaterThanOrEqual(last);
  });
});

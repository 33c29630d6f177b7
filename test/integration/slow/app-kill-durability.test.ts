// An audited app under steady traffic, killed with SIGKILL three times at random moments, a new
// process each time on the same spool, then one that delivers what is left. With durability
// "disk", every request answered at least 50 ms before a kill has exactly one document in
// MongoDB, and so does every job whose record `audit.record()` took before it answered. With
// "memory", the loss is measured the same way and printed, not asserted.
import { performance } from "node:perf_hooks";
import { describe, expect, it } from "vitest";
import { useKillableAppRig } from "../../helpers/killable-app-rig.js";
import { killHard } from "../../helpers/script-child.js";
import { type SqsTarget, sqsTargets, waitFor } from "../../helpers/services.js";

const KILLS = 3;
/** Requests answered at least this long before a kill must have their document. */
const MARGIN_MS = 50;
/** Concurrent clients, each sending its next request when the last one is answered. */
const CLIENTS = 4;
/** What the traffic hits: captured requests, or jobs recorded with `audit.record()`. */
type Route = "orders" | "jobs";

interface Lifetime {
  /** When this process was killed, and after how long. */
  killAt: number;
  ranMs: number;
  /** Ids answered at least MARGIN_MS before the kill; all answered. */
  due: string[];
  answered: number;
}

describe("an audited app killed with SIGKILL under steady traffic", () => {
  const rig = useKillableAppRig(sqsTargets()[0] as SqsTarget, "appkill");

  /**
   * One process: serve steady traffic on `route` (`orders`: captured requests, `jobs`: records
   * of `audit.record()`), SIGKILL it at a random moment 1.5–3.5 s in.
   */
  async function lifetime(n: number, durability: string, route: Route): Promise<Lifetime> {
    const { child, firstLine } = rig.startApp("serve", durability);
    const { port } = (await firstLine) as { port: number };
    const answers: Array<{ id: string; at: number }> = [];
    const cutOff: string[] = [];
    let stop = false;
    const client = async (c: number) => {
      for (let i = 0; !stop; i++) {
        const id = `${n}-${c}-${i}`;
        try {
          const res = await fetch(`http://127.0.0.1:${port}/${route}/${id}`);
          await res.arrayBuffer();
          if (res.status === 200) answers.push({ id, at: performance.now() });
        } catch (err) {
          // The process was killed under this request: not one the client saw answered.
          cutOff.push(String(err));
          return;
        }
      }
    };
    const started = performance.now();
    const clients = Array.from({ length: CLIENTS }, (_, c) => client(c));
    await new Promise((resolve) => setTimeout(resolve, 1500 + Math.random() * 2000));
    const killAt = performance.now();
    await killHard(child);
    stop = true;
    await Promise.all(clients);
    expect(cutOff.length).toBeLessThanOrEqual(CLIENTS);
    return {
      killAt,
      ranMs: Math.round(killAt - started),
      due: answers.filter((a) => a.at <= killAt - MARGIN_MS).map((a) => a.id),
      answered: answers.length,
    };
  }

  /** Runs the kills, delivers the rest, and returns the lifetimes and each due id's documents. */
  async function scenario(durability: string, route: Route = "orders") {
    const lives: Lifetime[] = [];
    for (let n = 0; n < KILLS; n++) lives.push(await lifetime(n, durability, route));
    const deliver = rig.startApp("deliver", durability);
    const { report } = (await deliver.firstLine) as {
      report: { spooled: number; dropped: number };
    };
    expect(report).toMatchObject({ spooled: 0, dropped: 0 });

    await rig.start();
    await waitFor(
      "the queue drained into MongoDB",
      () => rig.queue.depth(),
      (d) => d.visible === 0 && d.inflight === 0,
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    // A captured request is known by its path, a job's record by its target.
    const perPath = new Map<string, number>();
    const projection = { "request.path": 1, target: 1 };
    for await (const doc of rig.mongo.db.collection("records").find({}, { projection })) {
      const { request, target } = doc as { request?: { path?: string }; target?: { id: string } };
      const path = request?.path ?? `/jobs/${target?.id}`;
      perPath.set(path, (perPath.get(path) ?? 0) + 1);
    }
    const due = lives.flatMap((l) => l.due);
    const missing = due.filter((id) => !perPath.has(`/${route}/${id}`));
    const duplicated = [...perPath].filter(([, count]) => count > 1).map(([path]) => path);
    return { lives, due, missing, duplicated };
  }

  it('durability "disk": every request answered 50 ms before a kill has exactly one document', async () => {
    const { lives, due, missing, duplicated } = await scenario("disk");
    console.log(
      `durability "disk": ${due.length} requests answered >= ${MARGIN_MS} ms before one of ${KILLS} kills, ${missing.length} without a document; lifetimes ${lives.map((l) => `${l.ranMs} ms/${l.answered} answered`).join(", ")}`,
    );
    expect(due.length).toBeGreaterThan(KILLS * 50);
    expect(missing).toEqual([]);
    expect(duplicated).toEqual([]);
  }, 180_000);

  it('durability "disk": every job whose audit.record() returned 50 ms before a kill has exactly one document', async () => {
    const { lives, due, missing, duplicated } = await scenario("disk", "jobs");
    console.log(
      `durability "disk", audit.record(): ${due.length} jobs answered >= ${MARGIN_MS} ms before one of ${KILLS} kills, ${missing.length} without a document; lifetimes ${lives.map((l) => `${l.ranMs} ms/${l.answered} answered`).join(", ")}`,
    );
    expect(due.length).toBeGreaterThan(KILLS * 50);
    expect(missing).toEqual([]);
    expect(duplicated).toEqual([]);
  }, 180_000);

  it('durability "memory": the same kills lose records; measured, not asserted', async () => {
    const { lives, due, missing, duplicated } = await scenario("memory");
    const perKill = lives.map((_, n) => missing.filter((id) => id.startsWith(`${n}-`)).length);
    console.log(
      `durability "memory": ${missing.length} of ${due.length} requests answered >= ${MARGIN_MS} ms before one of ${KILLS} kills have no document (per kill: ${perKill.join(", ")}); lifetimes ${lives.map((l) => `${l.ranMs} ms/${l.answered} answered`).join(", ")}`,
    );
    expect(duplicated).toEqual([]);
  }, 180_000);
});

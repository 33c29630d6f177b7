// An app in memory mode killed with SIGKILL under traffic leaves its stream without an end
// mark, and what it did send is stored without holes: 1..last stored, the rest (numbered, still
// in memory) beyond it, at most up to the high-water mark its messages carried.
import { describe, expect, it } from "vitest";
import { useKillableAppRig } from "../../helpers/killable-app-rig.js";
import { killHard } from "../../helpers/script-child.js";
import { type SqsTarget, sqsTargets, waitFor } from "../../helpers/services.js";
import { oneTo, storedNumbers, streamDocs } from "../../helpers/streams.js";

describe("an app in memory mode killed with SIGKILL", () => {
  const rig = useKillableAppRig(sqsTargets()[0] as SqsTarget, "streamkill");

  it("leaves its stream unclosed, with no hole below the last record stored", async () => {
    await rig.start();
    const { child, firstLine } = rig.startApp("serve", "memory");
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
      () => rig.mongo.db.collection("records").countDocuments(),
      (n) => n >= 20,
    );
    await killHard(child);
    stop = true;
    await traffic;
    await waitFor(
      "the queue drained into MongoDB",
      () => rig.queue.depth(),
      (d) => d.visible === 0 && d.inflight === 0,
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    const streams = await streamDocs(rig.mongo.db);
    expect(streams.size).toBe(1);
    const [id, doc] = [...streams][0] ?? ["", { hwm: 0 }];
    expect(doc.end).toBeUndefined();
    const stored = await storedNumbers(rig.mongo.db, id);
    const last = stored[stored.length - 1] as number;
    expect(stored).toEqual(oneTo(last));
    expect(last).toBeLessThanOrEqual(doc.hwm);
    expect(answered).toBeGreaterThanOrEqual(last);
  });
});

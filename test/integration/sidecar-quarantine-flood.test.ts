// A flood of unsigned large messages with signing on: the quarantine writes within its cap and
// the write budget, each entry bounded in size, and no message is deleted without its entry.
import { createHash, randomBytes } from "node:crypto";
import { calculateObjectSize } from "bson";
import { describe, expect, it } from "vitest";
import { ENVELOPE_ATTRIBUTES } from "../../shared/wire/envelope.js";
import { sendBodies } from "../helpers/queue-records.js";
import { type SqsTarget, sqsTargets, waitFor } from "../helpers/services.js";
import { useSidecarRig } from "../helpers/sidecar-rig.js";

const target = sqsTargets()[0] as SqsTarget;
const MESSAGES = 120;
const BODY_BYTES = 50 * 1024;
const CAP = 4; // entries per second
const WINDOW_MS = 2_000;
/** Most entries in any window: a full bucket (one second), the window's refill, one receive of 10. */
const MOST_PER_WINDOW = CAP + (CAP * WINDOW_MS) / 1000 + 10;
/** Most bytes one stored entry may take: the 8 KiB prefix and its fields. */
const MOST_ENTRY_BYTES = 10 * 1024;

describe(`quarantine under a flood of unsigned messages (${target.name})`, () => {
  const rig = useSidecarRig(target);

  it("writes within its cap and bounds each entry, releasing what it refuses", async () => {
    const bodies = Array.from({ length: MESSAGES }, () =>
      randomBytes(BODY_BYTES / 2).toString("hex"),
    );
    // Five per call: a SendMessageBatch call carries 1 MiB at most.
    for (let i = 0; i < bodies.length; i += 5) {
      await sendBodies(
        rig.queue.sqs,
        rig.queue.queueUrl,
        bodies.slice(i, i + 5),
        ENVELOPE_ATTRIBUTES,
      );
    }
    await rig.start({
      signingSecret: randomBytes(24).toString("base64"),
      maxWriteRate: 20,
      maxQuarantineRate: CAP,
    });
    const quarantine = rig.mongo.db.collection("records_quarantine");
    // Every message is in quarantine or still on the queue, at every look: none is dropped.
    let fewestAccounted = Number.POSITIVE_INFINITY;
    await waitFor(
      "30 entries stored",
      async () => {
        const queue = await rig.queue.depth();
        const stored = await quarantine.countDocuments();
        fewestAccounted = Math.min(fewestAccounted, stored + queue.visible + queue.inflight);
        return stored;
      },
      (stored) => stored >= 30,
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(fewestAccounted).toBeGreaterThanOrEqual(MESSAGES);

    const entries = await quarantine.find().toArray();
    const bySha = new Map(bodies.map((b) => [createHash("sha256").update(b).digest("hex"), b]));
    for (const e of entries) {
      expect(calculateObjectSize(e)).toBeLessThanOrEqual(MOST_ENTRY_BYTES);
      expect(e).toMatchObject({ bodyBytes: BODY_BYTES, bodyTruncated: true });
      expect(bySha.get(e.bodySha256)?.startsWith(e.raw)).toBe(true);
    }
    // Rates from the entries' own timestamps, over every window starting at an entry.
    const stamped = entries
      .map((e) => ({ at: (e.quarantinedAt as Date).getTime(), bytes: calculateObjectSize(e) }))
      .sort((a, b) => a.at - b.at);
    const windows = stamped.map(({ at }) =>
      stamped.filter((u) => u.at >= at && u.at < at + WINDOW_MS),
    );
    const busiest = Math.max(...windows.map((w) => w.length));
    const heaviest = Math.max(...windows.map((w) => w.reduce((sum, u) => sum + u.bytes, 0)));
    expect(busiest).toBeLessThanOrEqual(MOST_PER_WINDOW);
    expect(heaviest).toBeLessThanOrEqual(MOST_PER_WINDOW * MOST_ENTRY_BYTES);
    expect(await rig.metric("auditq_sidecar_quarantine_capped_total")).toBeGreaterThan(0);
  }, 90_000);
});

// The sidecar on real services: poison messages, visibility heartbeats, the write rate cap.
import { ObjectId } from "mongodb";
import { describe, expect, it } from "vitest";
import { ENVELOPE_ATTRIBUTES, envelopeBody } from "../../shared/wire/envelope.js";
import { serializeRecord } from "../../shared/wire/record-json.js";
import type { Sidecar } from "../../sidecar/index.js";
import { metricValue } from "../helpers/metric-value.js";
import { makeRecord, sendBodies, sendRecords } from "../helpers/queue-records.js";
import { type SqsTarget, sqsTargets, waitFor } from "../helpers/services.js";
import { useSidecarRig } from "../helpers/sidecar-rig.js";

async function metric(sidecar: Sidecar, name: string, labels = ""): Promise<number> {
  return metricValue(await sidecar.registry.metrics(), `${name}${labels}`.replace(/[{}]/g, "\\$&"));
}

describe.each(sqsTargets())("sidecar on $name", (target: SqsTarget) => {
  const rig = useSidecarRig(target);

  const drained = (count: () => Promise<number>, n: number) =>
    waitFor(
      `${n} documents and an empty queue`,
      async () => ({ docs: await count(), queue: await rig.queue.depth() }),
      (s) => s.docs >= n && s.queue.visible + s.queue.inflight === 0,
    );

  it("quarantines poison with its reason and writes everything else", async () => {
    const good = Array.from({ length: 20 }, (_, i) => makeRecord(i));
    const mixed = [makeRecord(100), { ...makeRecord(101), _id: [1, 2] }, makeRecord(102)];
    const plainId = new ObjectId();
    await sendBodies(
      rig.queue.sqs,
      rig.queue.queueUrl,
      [envelopeBody(good.map(serializeRecord)), envelopeBody(mixed.map(serializeRecord))],
      ENVELOPE_ATTRIBUTES,
    );
    await sendBodies(rig.queue.sqs, rig.queue.queueUrl, [
      "this is not JSON",
      '{"auditq":99,"records":[]}',
      JSON.stringify({ action: "plain, no _id", ts: { $date: new Date().toISOString() } }),
      JSON.stringify({ _id: { $oid: plainId.toHexString() }, action: "plain, own _id" }),
    ]);
    const sidecar = await rig.start();
    const records = rig.mongo.db.collection("records");
    const quarantine = rig.mongo.db.collection("records_quarantine");
    await drained(() => records.countDocuments(), 20 + 2 + 2);
    expect(await records.countDocuments()).toBe(24);
    expect(await records.findOne({ _id: plainId })).toMatchObject({ action: "plain, own _id" });
    expect(await records.findOne({ action: "plain, no _id" })).toMatchObject({
      _id: expect.any(ObjectId),
    });

    const entries = await quarantine.find().sort({ kind: 1, _id: 1 }).toArray();
    expect(entries).toHaveLength(3);
    const [a, b, c] = entries;
    expect(a).toMatchObject({
      kind: "message",
      receiveCount: 1,
      error: { message: expect.any(String) },
    });
    expect(new Set([a?.raw, b?.raw])).toEqual(
      new Set(['{"auditq":99,"records":[]}', "this is not JSON"]),
    );
    expect(entries.map((e) => e.error.message).join("\n")).toMatch(/not valid.*JSON/);
    expect(entries.map((e) => e.error.message).join("\n")).toMatch(
      /unsupported envelope version 99/,
    );
    expect(c).toMatchObject({
      kind: "record",
      index: 1,
      receiveCount: 1,
      messageId: expect.any(String),
      error: { message: expect.stringMatching(/_id/) },
    });
    expect(c?._id).toBe(`${c?.messageId}/1`);
    expect(c?.raw).toContain('"_id":[1,2]');
    expect(await metric(sidecar, "auditq_sidecar_records_quarantined_total")).toBe(1);
    expect(await metric(sidecar, "auditq_sidecar_messages_quarantined_total")).toBe(2);
    expect(await metric(sidecar, "auditq_sidecar_messages_deleted_total")).toBe(6);
  });

  it("keeps a message hidden with heartbeats while it takes longer than its visibility timeout", async () => {
    // One message of 400 records at 100 records/s: 4 s in hand, visibility timeout 2 s.
    await sendRecords(rig.queue.sqs, rig.queue.queueUrl, 400, 400);
    const sidecar = await rig.start({
      visibilityTimeoutSeconds: 2,
      maxWriteRate: 100,
      bulkSize: 50,
      maxBufferedRecords: 1_000,
    });
    const records = rig.mongo.db.collection("records");
    await drained(() => records.countDocuments(), 400);
    expect(await records.countDocuments()).toBe(400);
    // Not redelivered while it was being written: received once, no duplicates.
    expect(await metric(sidecar, "auditq_sidecar_messages_received_total")).toBe(1);
    expect(await metric(sidecar, "auditq_sidecar_records_duplicate_total")).toBe(0);
    expect(
      await metric(
        sidecar,
        "auditq_sidecar_sqs_requests_total",
        '{operation="ChangeMessageVisibilityBatch",outcome="ok"}',
      ),
    ).toBeGreaterThanOrEqual(2);
  });
});

describe("sidecar write rate", () => {
  const target = sqsTargets()[0] as SqsTarget;
  const rig = useSidecarRig(target);

  it("holds maxWriteRate within 10 % over a 10 s window, with the backlog left in SQS", async () => {
    const rate = 200;
    // 30 s of backlog: more than the window and more than the sidecar may hold.
    await sendRecords(rig.queue.sqs, rig.queue.queueUrl, rate * 30, 50);
    const sidecar = await rig.start({
      maxWriteRate: rate,
      bulkSize: 50,
      // In hand at most: half a visibility timeout of writing at the cap (1,500 records).
      visibilityTimeoutSeconds: 10,
    });
    // Documents MongoDB acknowledged, read at the instant of each end of the window (a
    // countDocuments on a busy FerretDB takes long enough to skew a 10 s window).
    const written = () => metric(sidecar, "auditq_sidecar_records_written_total");
    await waitFor("a warm-up second", written, (n) => n >= rate);
    const c0 = await written();
    const t0 = performance.now();
    // The 10 s window is what is measured, not a guess at when something is done.
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    const c1 = await written();
    const observed = (c1 - c0) / ((performance.now() - t0) / 1000);
    expect(observed).toBeGreaterThan(rate * 0.9);
    expect(observed).toBeLessThan(rate * 1.1);
    // The backlog waits in SQS, not in the sidecar's memory.
    const depth = await rig.queue.depth();
    expect(depth.visible).toBeGreaterThan(0);
    const inHand = Number(
      /^auditq_sidecar_records_in_hand (\S+)$/m.exec(await sidecar.registry.metrics())?.[1],
    );
    // The cap itself: a message is taken in only when its records fit beside those in hand.
    expect(inHand).toBeLessThanOrEqual((rate * 10) / 2);
  });
});

// A record whose `_id` is already taken by other content is a conflict to surface, not a duplicate.
import { beforeEach, describe, expect, it } from "vitest";
import { ENVELOPE_ATTRIBUTES, envelopeBody } from "../../shared/wire/envelope.js";
import { serializeRecord } from "../../shared/wire/record-json.js";
import { metricValue } from "../helpers/metric-value.js";
import { makeRecord, sendBodies } from "../helpers/queue-records.js";
import { type SqsTarget, sqsTargets } from "../helpers/services.js";
import { useSidecarRig } from "../helpers/sidecar-rig.js";
import { untilStored } from "../helpers/until-stored.js";

const target = sqsTargets()[0] as SqsTarget;

describe(`conflicting records (${target.name})`, () => {
  const rig = useSidecarRig(target);

  beforeEach(async () => {
    await rig.start();
  });

  const metric = async (name: string) => metricValue(await rig.sidecar.registry.metrics(), name);
  const send = (bodies: string[]) =>
    sendBodies(rig.queue.sqs, rig.queue.queueUrl, bodies, ENVELOPE_ATTRIBUTES);
  it("quarantines real records whose _id a forged message took first, and counts them", async () => {
    const real = Array.from({ length: 20 }, (_, i) => makeRecord(i));
    // Forged records carrying the real records' (predictable, future) ObjectIds.
    const forged = real.map((r) => ({ ...r, action: "forged", actor: { id: "mallory" } }));
    await send([envelopeBody(forged.map(serializeRecord))]);
    await untilStored(rig, { records: 20, quarantined: 0 }, "the forged records stored");
    await send([envelopeBody(real.map(serializeRecord))]);
    await untilStored(
      rig,
      { records: 20, quarantined: 20 },
      "the real records quarantined as conflicts",
    );
    const entries = await rig.mongo.db.collection("records_quarantine").find().toArray();
    for (const e of entries) {
      expect(e).toMatchObject({
        kind: "conflict",
        conflict: { storedHash: expect.any(String), hash: expect.any(String) },
        error: { message: expect.stringMatching(/other content/) },
      });
      expect(e.raw).toContain('"action":"GET /orders/:id"');
    }
    expect(await metric("auditq_sidecar_records_conflict_total")).toBe(20);
    expect(await metric("auditq_sidecar_records_duplicate_total")).toBe(0);
  });

  it("treats a redelivered record as a duplicate, and the same _id twice in one message by content", async () => {
    const a = makeRecord(1);
    const b = makeRecord(2);
    const c = makeRecord(3);
    await send([envelopeBody([a, b].map(serializeRecord))]);
    await untilStored(rig, { records: 2, quarantined: 0 }, "two records");
    // Redelivery (same content), the same _id twice with the same content, and twice with other.
    const bodies = [
      envelopeBody([a, b].map(serializeRecord)),
      envelopeBody([c, c].map(serializeRecord)),
    ];
    await send(bodies);
    await untilStored(rig, { records: 3, quarantined: 0 }, "three records, no conflict");
    expect(await metric("auditq_sidecar_records_duplicate_total")).toBe(3);
    const d = makeRecord(4);
    await send([envelopeBody([d, { ...d, action: "other" }].map(serializeRecord))]);
    await untilStored(rig, { records: 4, quarantined: 1 }, "four records, one conflict");
    const entry = await rig.mongo.db.collection("records_quarantine").findOne();
    expect(entry).toMatchObject({ kind: "conflict", index: 1 });
    expect(await metric("auditq_sidecar_records_conflict_total")).toBe(1);
  });
});

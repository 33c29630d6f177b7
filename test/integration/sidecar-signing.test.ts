// Message signing: with a shared secret, only messages the producer signed reach the collection.
import { randomBytes } from "node:crypto";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { auditq } from "../../middleware/index.js";
import { ENVELOPE_ATTRIBUTES, envelopeBody } from "../../shared/wire/envelope.js";
import { serializeRecord } from "../../shared/wire/record-json.js";
import { ATTR_SIGNATURE, signMessage } from "../../shared/wire/signature.js";
import { createApp } from "../helpers/app.js";
import { silentLogger } from "../helpers/logger.js";
import { metricValue } from "../helpers/metric-value.js";
import { makeRecord, sendBodies } from "../helpers/queue-records.js";
import { type SqsTarget, sqsClient, sqsTargets } from "../helpers/services.js";
import { useSidecarRig } from "../helpers/sidecar-rig.js";
import { untilStored } from "../helpers/until-stored.js";

const target = sqsTargets()[0] as SqsTarget;
const secret = () => randomBytes(24).toString("base64");

describe(`message signing (${target.name})`, () => {
  const rig = useSidecarRig(target);

  /** Sends one envelope per body list, each signed with `key` (or not signed at all). */
  async function sendSigned(bodies: string[], key: string | undefined): Promise<void> {
    for (const body of bodies) {
      const attributes =
        key === undefined
          ? ENVELOPE_ATTRIBUTES
          : {
              ...ENVELOPE_ATTRIBUTES,
              [ATTR_SIGNATURE]: {
                DataType: "String",
                StringValue: signMessage(body, ENVELOPE_ATTRIBUTES, key),
              },
            };
      await sendBodies(rig.queue.sqs, rig.queue.queueUrl, [body], attributes);
    }
  }

  it("lets no forged record reach the collection: unsigned and badly signed go to quarantine", async () => {
    const key = secret();
    const real = Array.from({ length: 20 }, (_, i) => makeRecord(i));
    const forged = real.map((r) => ({ ...r, action: "forged", actor: { id: "mallory" } }));
    // The forgeries arrive first, carrying the real records' future ObjectIds.
    await sendSigned([envelopeBody(forged.slice(0, 10).map(serializeRecord))], undefined);
    await sendSigned([envelopeBody(forged.slice(10).map(serializeRecord))], secret());
    await sendSigned([envelopeBody(real.map(serializeRecord))], key);
    await rig.start({ signingSecret: key });
    await untilStored(
      rig,
      { records: 20, quarantined: 2 },
      "the real records stored, two forged messages quarantined",
    );
    const stored = await rig.mongo.db.collection("records").find().toArray();
    expect(stored.filter((r) => r.action === "forged")).toEqual([]);
    const reasons = (await rig.mongo.db.collection("records_quarantine").find().toArray())
      .map((e) => String(e.error.message))
      .sort();
    expect(reasons).toEqual([
      expect.stringMatching(/is not signed/),
      expect.stringMatching(/does not match any signing secret/),
    ]);
    const metrics = await rig.sidecar.registry.metrics();
    expect(metricValue(metrics, "auditq_sidecar_records_conflict_total")).toBe(0);
  });

  it("accepts the old and the new secret during a rotation, and the producer's signatures", async () => {
    const [oldKey, newKey] = [secret(), secret()];
    await sendSigned([envelopeBody([makeRecord(1)].map(serializeRecord))], oldKey);
    await sendSigned([envelopeBody([makeRecord(2)].map(serializeRecord))], newKey);
    const audit = auditq({
      queueUrl: rig.queue.queueUrl,
      sqs: sqsClient(target),
      logger: silentLogger,
      spool: false,
      signingSecret: newKey,
    });
    const app = createApp(audit);
    for (let i = 0; i < 30; i++) await request(app).get(`/orders/${i}`).expect(200);
    await audit.close();
    await rig.start({ signingSecret: [newKey, oldKey] });
    await untilStored(rig, { records: 32, quarantined: 0 }, "every signed record");
  });
});

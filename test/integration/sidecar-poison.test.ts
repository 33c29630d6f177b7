// Records MongoDB refuses whole bulks for: each fails alone, the rest of its bulk is written at once.
import { promisify } from "node:util";
import { brotliCompress } from "node:zlib";
import { SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import { Decimal128, type Document, EJSON, type ObjectId } from "bson";
import { describe, expect, it } from "vitest";
import {
  ENVELOPE_ATTRIBUTES,
  envelopeAttributes,
  envelopeBody,
} from "../../shared/wire/envelope.js";
import { ATTR_PAYLOAD, payloadBody } from "../../shared/wire/payload-attribute.js";
import { serializeRecord } from "../../shared/wire/record-json.js";
import { metricValue } from "../helpers/metric-value.js";
import { makeRecord, sendBodies } from "../helpers/queue-records.js";
import { type SqsTarget, sqsTargets, waitFor } from "../helpers/services.js";
import { useSidecarRig } from "../helpers/sidecar-rig.js";

const target = sqsTargets()[0] as SqsTarget;
const brotli = promisify(brotliCompress);

describe(`poison records (${target.name})`, () => {
  const rig = useSidecarRig(target);

  const metric = async (name: string) =>
    metricValue(await rig.sidecar.registry.metrics(), name.replace(/[{}]/g, "\\$&"));

  const emptyQueue = (what: string, more: () => Promise<boolean> = async () => true) =>
    waitFor(
      what,
      async () => ({ queue: await rig.queue.depth(), more: await more() }),
      (s) => s.more && s.queue.visible + s.queue.inflight === 0,
    );

  it("quarantines a 17 MiB record and writes the rest of its bulk on the first try", async () => {
    const good = Array.from({ length: 20 }, (_, i) => makeRecord(i));
    const huge = { ...makeRecord(99), blob: "x".repeat(17 * 1024 * 1024) };
    const text = envelopeBody([...good.slice(0, 10), huge, ...good.slice(10)].map(serializeRecord));
    const body = (await brotli(Buffer.from(text))).toString("base64");
    await sendBodies(rig.queue.sqs, rig.queue.queueUrl, [body], envelopeAttributes("br"));
    await rig.start();
    const records = rig.mongo.db.collection("records");
    const quarantine = rig.mongo.db.collection("records_quarantine");
    await emptyQueue("20 records, one quarantined and an empty queue", async () => {
      return (await records.countDocuments()) === 20 && (await quarantine.countDocuments()) === 1;
    });
    expect(await records.countDocuments({ _id: { $in: good.map((r) => r._id) } })).toBe(20);
    // First try: nothing given back, no write counted as failed.
    expect(await metric("auditq_sidecar_messages_released_total")).toBe(0);
    expect(await metric('auditq_sidecar_errors_total{stage="write"}')).toBe(0);
    expect(await metric("auditq_sidecar_records_written_total")).toBe(20);
    expect(await metric("auditq_sidecar_records_quarantined_total")).toBe(1);
    // Its text is over the limit too: the entry keeps the message body instead (base64).
    const entry = await quarantine.findOne();
    expect(entry).toMatchObject({
      kind: "record",
      index: 10,
      reduced: true,
      bodyBase64: expect.any(String),
      bodyTruncated: false,
      error: { message: expect.stringMatching(/over the 16777216-byte document limit/) },
    });
    expect(Buffer.from(String(entry?.bodyBase64), "base64").toString()).toBe(body);
  });

  it("keeps the payload bytes in the reduced entry of a 17 MiB record of a binary-payload message", async () => {
    const good = Array.from({ length: 4 }, (_, i) => makeRecord(i));
    const huge = { ...makeRecord(99), blob: "x".repeat(17 * 1024 * 1024) };
    const text = envelopeBody([...good, huge].map(serializeRecord));
    const payload = await brotli(Buffer.from(text));
    await rig.queue.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: rig.queue.queueUrl,
        Entries: [
          {
            Id: "0",
            MessageBody: payloadBody(5),
            MessageAttributes: {
              ...ENVELOPE_ATTRIBUTES,
              [ATTR_PAYLOAD]: { DataType: "Binary.br", BinaryValue: payload },
            },
          },
        ],
      }),
    );
    await rig.start();
    const records = rig.mongo.db.collection("records");
    const quarantine = rig.mongo.db.collection("records_quarantine");
    await emptyQueue("4 records, one quarantined and an empty queue", async () => {
      return (await records.countDocuments()) === 4 && (await quarantine.countDocuments()) === 1;
    });
    const entry = await quarantine.findOne();
    expect(entry).toMatchObject({ kind: "record", index: 4, reduced: true });
    // The body names the payload only: without the payload's bytes the record would be gone.
    expect(Buffer.from(entry?.payload.buffer).equals(payload)).toBe(true);
  });

  it("isolates records the server drops the connection on, or refuses, and writes the rest", async () => {
    const good = Array.from({ length: 30 }, (_, i) => makeRecord(i));
    // FerretDB closes the connection on NaN and Decimal128 and refuses dotted keys; MongoDB
    // takes all three. Either way nothing is released and every good record is written.
    const odd: Document[] = [
      { ...makeRecord(100), score: Number.NaN },
      { ...makeRecord(101), price: Decimal128.fromString("9.99") },
      { ...makeRecord(102), "a.b": 1 },
    ];
    const mixed = [
      ...good.slice(0, 10),
      ...odd.slice(0, 1),
      ...good.slice(10, 20),
      ...odd.slice(1),
    ];
    await sendBodies(
      rig.queue.sqs,
      rig.queue.queueUrl,
      [envelopeBody(mixed.map(serializeRecord)), envelopeBody(good.slice(20).map(serializeRecord))],
      ENVELOPE_ATTRIBUTES,
    );
    await rig.start();
    const records = rig.mongo.db.collection("records");
    const quarantine = rig.mongo.db.collection("records_quarantine");
    await emptyQueue("every record written or quarantined", async () => {
      const stored = (await records.countDocuments()) + (await quarantine.countDocuments());
      return stored === 33;
    });
    expect(await records.countDocuments({ _id: { $in: good.map((r) => r._id) } })).toBe(30);
    expect(await metric("auditq_sidecar_messages_released_total")).toBe(0);
    for (const e of await quarantine.find().toArray()) {
      expect(e).toMatchObject({ kind: "record", error: { message: expect.any(String) } });
      const id = (EJSON.parse(e.raw) as { _id: ObjectId })._id;
      expect(odd.map((r) => String(r._id))).toContain(String(id));
    }
  });

  it("stores a reduced entry when the full quarantine entry is refused, and deletes the message", async () => {
    // An attribute name with a dot: FerretDB refuses it as a key of the entry's `attributes`.
    await sendBodies(rig.queue.sqs, rig.queue.queueUrl, ["not json"], {
      "auditq.odd": { DataType: "String", StringValue: "x" },
    });
    await rig.start();
    const quarantine = rig.mongo.db.collection("records_quarantine");
    await emptyQueue("a quarantine entry and an empty queue", async () => {
      return (await quarantine.countDocuments()) === 1;
    });
    const entry = await quarantine.findOne();
    expect(entry).toMatchObject({ kind: "message", error: { message: /not valid/ } });
    const raw =
      entry?.reduced === true ? Buffer.from(entry.bodyBase64, "base64").toString() : entry?.raw;
    expect(raw).toBe("not json");
    expect(await metric("auditq_sidecar_messages_deleted_total")).toBe(1);
  });

  it("keeps records in hand within maxBufferedRecords and quarantines a message larger than it", async () => {
    const bodies = Array.from({ length: 12 }, (_, m) =>
      envelopeBody(
        Array.from({ length: 60 }, (_, i) => makeRecord(m * 100 + i)).map(serializeRecord),
      ),
    );
    const tooLarge = envelopeBody(
      Array.from({ length: 150 }, (_, i) => makeRecord(5000 + i)).map(serializeRecord),
    );
    await sendBodies(rig.queue.sqs, rig.queue.queueUrl, [...bodies, tooLarge], ENVELOPE_ATTRIBUTES);
    // Slow writes (50 records/s), so that the pollers have to wait for room.
    await rig.start({ maxBufferedRecords: 100, maxWriteRate: 50, bulkSize: 20 });
    const records = rig.mongo.db.collection("records");
    const quarantine = rig.mongo.db.collection("records_quarantine");
    let peak = 0;
    await emptyQueue("720 records and one quarantined message", async () => {
      peak = Math.max(peak, await metric("auditq_sidecar_records_in_hand"));
      return (await records.countDocuments()) === 720 && (await quarantine.countDocuments()) === 1;
    });
    // Sampled every 100 ms: a message is taken in only when its 60 records fit beside those held.
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(100);
    expect(await quarantine.findOne()).toMatchObject({
      kind: "message",
      error: { message: "message holds 150 records, more than maxBufferedRecords (100)" },
    });
  });
});

// End to end on real services: Express → auditq → SQS → sidecar → MongoDB, exactly once.
import {
  ChangeMessageVisibilityBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
} from "@aws-sdk/client-sqs";
import { ObjectId } from "mongodb";
import { Registry } from "prom-client";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { auditq } from "../../middleware/index.js";
import { createApp } from "../helpers/app.js";
import { silentLogger } from "../helpers/logger.js";
import { sqsClient, sqsTargets, waitFor } from "../helpers/services.js";
import { useSidecarRig } from "../helpers/sidecar-rig.js";

describe.each(sqsTargets())("pipeline on $name", (target) => {
  const rig = useSidecarRig(target);

  /** Sends `n` requests through an app with auditq and waits until they are all on the queue. */
  async function produce(n: number): Promise<void> {
    const audit = auditq({
      queueUrl: rig.queue.queueUrl,
      sqs: sqsClient(target),
      logger: silentLogger,
      // Memory only: what is asserted here is the pipeline; no spool directory left behind.
      spool: false,
      // Its own count: several produce() calls run in this file.
      registry: new Registry(),
    });
    const app = createApp(audit);
    for (let i = 0; i < n; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, n - i) }, (_, j) =>
          (i + j) % 2 === 0
            ? request(app)
                .get(`/orders/${i + j}`)
                .set("x-user", `user-${(i + j) % 7}`)
                .expect(200)
            : request(app)
                .post("/orders")
                .send({ n: i + j })
                .expect(201),
        ),
      );
    }
    await audit.close();
    const sent = await audit.registry.getSingleMetricAsString("auditq_records_sent_total");
    expect(sent).toMatch(new RegExp(`auditq_records_sent_total ${n}$`, "m"));
  }

  const records = () => rig.mongo.db.collection("records");

  async function drained(n: number): Promise<void> {
    await waitFor(
      "all records in MongoDB",
      () => records().countDocuments(),
      (c) => c >= n,
    );
    await waitFor(
      "an empty queue",
      () => rig.queue.depth(),
      (d) => d.visible + d.inflight === 0,
    );
  }

  it("stores exactly one document per request, with the captured fields", async () => {
    const n = 300;
    await produce(n);
    await rig.start();
    await drained(n);
    expect(await records().countDocuments()).toBe(n);

    const doc = await records().findOne({ "request.path": "/orders/4" });
    expect(doc).toMatchObject({
      v: 2,
      actor: { id: "user-4" },
      action: "GET /orders/:id",
      request: { method: "GET", path: "/orders/4", route: "/orders/:id" },
      outcome: { status: 200 },
    });
    expect(doc?._id).toBeInstanceOf(ObjectId);
    expect(doc?.ts).toBeInstanceOf(Date);
    expect(typeof doc?.outcome.durationMs).toBe("number");
    expect(await records().countDocuments({ action: "POST /orders/", "outcome.status": 201 })).toBe(
      n / 2,
    );
    expect(await records().countDocuments({ "actor.id": null })).toBe(n / 2);
  });

  it("stores each record once when SQS delivers every message twice", async () => {
    const n = 200;
    await produce(n);
    // Take every message off the queue, put a copy of each back, then make the originals
    // visible again: the queue now holds each record twice.
    const originals: Message[] = [];
    await waitFor(
      "every message received",
      async () => {
        const out = await rig.queue.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: rig.queue.queueUrl,
            MaxNumberOfMessages: 10,
            MessageAttributeNames: ["All"],
            VisibilityTimeout: 120,
          }),
        );
        originals.push(...(out.Messages ?? []));
        return rig.queue.depth();
      },
      (d) => d.visible === 0,
    );
    expect(originals.length).toBeGreaterThan(0);
    for (let i = 0; i < originals.length; i += 10) {
      const chunk = originals.slice(i, i + 10);
      await rig.queue.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: rig.queue.queueUrl,
          Entries: chunk.map((m, j) => ({
            Id: String(j),
            MessageBody: m.Body,
            MessageAttributes: m.MessageAttributes,
          })),
        }),
      );
      await rig.queue.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: rig.queue.queueUrl,
          Entries: chunk.map((m, j) => ({
            Id: String(j),
            ReceiptHandle: m.ReceiptHandle,
            VisibilityTimeout: 0,
          })),
        }),
      );
    }

    const sidecar = rig.create();
    await sidecar.start();
    await drained(n);
    expect(await records().countDocuments()).toBe(n);
    const duplicates = await sidecar.registry.getSingleMetricAsString(
      "auditq_sidecar_records_duplicate_total",
    );
    expect(duplicates).toMatch(new RegExp(`auditq_sidecar_records_duplicate_total ${n}$`, "m"));
  });

  it("stores each record once with two sidecars polling one queue", async () => {
    const n = 400;
    await produce(n);
    await Promise.all([rig.start(), rig.start()]);
    await drained(n);
    expect(await records().countDocuments()).toBe(n);
  });
});

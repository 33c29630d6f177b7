// Records beyond the request, end to end on real services: a worker that a request starts
// calls audit.record() inside audit.as(), and MongoDB holds its actor and the link to the
// request; a queue worker started outside any request links by the request id it was handed.
import { randomBytes } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import express from "express";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { type AuditqMiddleware, auditq } from "../../middleware/index.js";
import { silentLogger } from "../helpers/logger.js";
import { type SqsTarget, sqsClient, sqsTargets } from "../helpers/services.js";
import { useSidecarRig } from "../helpers/sidecar-rig.js";
import { untilStored } from "../helpers/until-stored.js";

const target = sqsTargets()[0] as SqsTarget;

/** An app whose POST /orders/:id/ship starts a shipping job and answers at once. */
function shopApp(audit: AuditqMiddleware, jobs: Array<{ orderId: string; requestId: string }>) {
  const app = express();
  app.use(audit);
  app.use((req, _res, next) => {
    (req as typeof req & { user?: { id: string } }).user = { id: "clerk-1" };
    next();
  });
  app.post("/orders/:id/ship", (req, res) => {
    const orderId = req.params.id;
    req.audit.action("order.ship").target("order", orderId);
    // In-process background work: it inherits the request's context.
    void audit.as("shipping-worker", { tenant: "acme" }, async () => {
      await delay(20);
      audit.record({ action: "label.printed", target: { type: "order", id: orderId } });
    });
    // Work for a queue worker started outside any request: the request id travels with it.
    jobs.push({ orderId, requestId: req.audit.requestId });
    res.status(202).json({ queued: true });
  });
  return app;
}

describe(`audit.record() from workers, stored (${target.name})`, () => {
  const rig = useSidecarRig(target);

  it("stores the worker's actor and links each record to the request that started it", async () => {
    const signingSecret = randomBytes(24).toString("base64");
    const audit = auditq({
      queueUrl: rig.queue.queueUrl,
      sqs: sqsClient(target),
      logger: silentLogger,
      spool: false,
      signingSecret,
    });
    const jobs: Array<{ orderId: string; requestId: string }> = [];
    const app = shopApp(audit, jobs);
    for (const id of ["o1", "o2"]) {
      await request(app).post(`/orders/${id}/ship`).set("x-request-id", `req-${id}`).expect(202);
    }
    // The queue worker, outside any request: it names the request it works for.
    for (const job of jobs) {
      await audit.as("queue-worker", { requestId: job.requestId }, async () => {
        audit.record({
          action: "carrier.booked",
          target: { type: "order", id: job.orderId },
          outcome: { status: 200, durationMs: 3 },
        });
      });
    }
    await rig.start({ signingSecret });
    // 2 requests, 2 labels printed by the in-process worker, 2 bookings by the queue worker.
    await audit.flush();
    await untilStored(rig, { records: 6, quarantined: 0 });
    await audit.close();

    const docs = await rig.mongo.db.collection("records").find().toArray();
    for (const id of ["o1", "o2"]) {
      const req = docs.find((d) => d.source === "http" && d.target?.id === id);
      const printed = docs.find((d) => d.action === "label.printed" && d.target?.id === id);
      const booked = docs.find((d) => d.action === "carrier.booked" && d.target?.id === id);
      expect(req).toMatchObject({ actor: { id: "clerk-1" }, request: { requestId: `req-${id}` } });
      expect(printed).toMatchObject({
        source: "record",
        actor: { id: "shipping-worker" },
        tenant: "acme",
        causedBy: { requestId: `req-${id}`, id: req?._id },
      });
      expect(printed).not.toHaveProperty("request");
      expect(printed).not.toHaveProperty("outcome");
      expect(booked).toMatchObject({
        source: "record",
        actor: { id: "queue-worker" },
        causedBy: { requestId: `req-${id}` },
        outcome: { status: 200, durationMs: 3 },
      });
      expect(booked?.causedBy).not.toHaveProperty("id");
    }
  });
});

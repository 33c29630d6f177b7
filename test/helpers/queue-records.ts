// Records on a queue for the sidecar's tests: made as the middleware makes them, sent in
// envelopes or as raw bodies, or kept topped up as a backlog that never runs dry.
import { SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { ObjectId } from "bson";
import { ENVELOPE_ATTRIBUTES, envelopeBody } from "../../shared/wire/envelope.js";
import { serializeRecord } from "../../shared/wire/record-json.js";
import type { TestQueue } from "./services.js";

/** A record as the middleware makes it. */
export function makeRecord(i: number) {
  return {
    _id: new ObjectId(),
    v: 1,
    ts: new Date(),
    actor: { id: `user-${i % 13}` },
    action: "GET /orders/:id",
    request: { method: "GET", path: `/orders/${i}`, route: "/orders/:id" },
    outcome: { status: 200, durationMs: 1.5 },
  };
}

/** Sends `n` fresh records in envelopes of `perMessage`; returns their ids. */
export async function sendRecords(
  sqs: SQSClient,
  queueUrl: string,
  n: number,
  perMessage = 50,
): Promise<ObjectId[]> {
  const ids: ObjectId[] = [];
  const bodies: string[] = [];
  for (let i = 0; i < n; i += perMessage) {
    const batch = Array.from({ length: Math.min(perMessage, n - i) }, (_, j) => makeRecord(i + j));
    ids.push(...batch.map((r) => r._id));
    bodies.push(envelopeBody(batch.map(serializeRecord)));
  }
  await sendBodies(sqs, queueUrl, bodies, ENVELOPE_ATTRIBUTES);
  return ids;
}

export async function sendBodies(
  sqs: SQSClient,
  queueUrl: string,
  bodies: readonly string[],
  attributes?: Record<string, { DataType: string; StringValue: string }>,
): Promise<void> {
  const calls: Promise<unknown>[] = [];
  for (let i = 0; i < bodies.length; i += 10) {
    calls.push(
      sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: bodies.slice(i, i + 10).map((body, j) => ({
            Id: String(j),
            MessageBody: body,
            MessageAttributes: attributes,
          })),
        }),
      ),
    );
    if (calls.length >= 8) await Promise.all(calls.splice(0));
  }
  await Promise.all(calls);
}

/**
 * Keeps a queue's backlog above `low` records while a test runs, so that a fleet writing at its
 * budget never runs dry, without sending the whole run's records up front (which the final drain
 * would then have to write). Every record sent is in `ids`.
 */
export class Backlog {
  readonly ids: ObjectId[] = [];
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly queue: TestQueue,
    private readonly low: number,
    private readonly perMessage = 50,
  ) {}

  /** Sends the first `n` records and starts topping up. */
  async start(n: number): Promise<void> {
    await this.send(n);
    this.running = (async () => {
      while (!this.stopped) {
        const { visible } = await this.queue.depth();
        if (visible * this.perMessage < this.low) await this.send(this.low);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async send(n: number): Promise<void> {
    this.ids.push(...(await sendRecords(this.queue.sqs, this.queue.queueUrl, n, this.perMessage)));
  }
}

// Records of a producer stream for the proof's tests: made as a version 2 producer makes them
// (`seq: {stream, n}`), sent in envelopes through the queue, and the stream's document in
// `records_streams` as the sidecar keeps it.
import { randomBytes } from "node:crypto";
import { ENVELOPE_ATTRIBUTES, envelopeBody } from "../../shared/wire/envelope.js";
import { serializeRecord } from "../../shared/wire/record-json.js";
import type { LossRange } from "../../shared/wire/stream.js";
import { makeRecord, sendBodies } from "./queue-records.js";
import type { TestDb, TestQueue } from "./services.js";

/** A stream id: 22 characters, base64url of 16 random bytes. */
export function streamId(): string {
  return randomBytes(16).toString("base64url");
}

/** Records `ns` of `stream`, as the middleware makes them. */
export function seqRecords(stream: string, ns: readonly number[]) {
  return ns.map((n) => ({ ...makeRecord(n), seq: { stream, n } }));
}

/** Sends `records` in envelopes of `perMessage`, with `attributes` (default: the envelope's). */
export async function sendInEnvelopes(
  queue: TestQueue,
  records: readonly ReturnType<typeof makeRecord>[],
  perMessage = 5,
  attributes: Record<string, { DataType: string; StringValue: string }> = ENVELOPE_ATTRIBUTES,
): Promise<void> {
  const bodies: string[] = [];
  for (let i = 0; i < records.length; i += perMessage) {
    bodies.push(envelopeBody(records.slice(i, i + perMessage).map(serializeRecord)));
  }
  await sendBodies(queue.sqs, queue.queueUrl, bodies, attributes);
}

/** Writes the stream's document as the sidecar keeps it in `records_streams`. */
export async function writeStreamDoc(
  mongo: TestDb,
  stream: string,
  mark: { hwm: number; end?: boolean; lost?: LossRange[] },
): Promise<void> {
  const now = new Date();
  await mongo.db.collection<{ _id: string }>("records_streams").updateOne(
    { _id: stream },
    {
      $set: {
        hwm: mark.hwm,
        end: mark.end ?? false,
        lost: mark.lost ?? [],
        firstSeen: now,
        lastSeen: now,
      },
    },
    { upsert: true },
  );
}

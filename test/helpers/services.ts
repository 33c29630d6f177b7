// Per-test resources on the real services: a fresh queue, a fresh database, and a poll helper.
import { randomBytes } from "node:crypto";
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { type Db, MongoClient } from "mongodb";
import { inject } from "vitest";
import type { SqsTarget } from "../global-setup.js";

export type { SqsTarget };

export function sqsTargets(): SqsTarget[] {
  return inject("services").sqsTargets;
}

export function mongoUri(): string {
  return inject("services").mongoUri;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
}

export function sqsClient(target: SqsTarget): SQSClient {
  return new SQSClient({
    endpoint: target.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 1,
  });
}

export interface TestQueue {
  sqs: SQSClient;
  queueUrl: string;
  /** Messages visible plus in flight, as SQS reports them. */
  depth(): Promise<{ visible: number; inflight: number }>;
  dispose(): Promise<void>;
}

export async function createTestQueue(
  target: SqsTarget,
  attributes: Record<string, string> = {},
): Promise<TestQueue> {
  const sqs = sqsClient(target);
  const out = await sqs.send(
    new CreateQueueCommand({ QueueName: uniqueName("auditq-test"), Attributes: attributes }),
  );
  const queueUrl = out.QueueUrl as string;
  return {
    sqs,
    queueUrl,
    async depth() {
      const attrs = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        }),
      );
      return {
        visible: Number(attrs.Attributes?.ApproximateNumberOfMessages ?? 0),
        inflight: Number(attrs.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
      };
    },
    async dispose() {
      await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
      sqs.destroy();
    },
  };
}

export interface TestDb {
  client: MongoClient;
  db: Db;
  name: string;
  dispose(): Promise<void>;
}

export async function createTestDb(): Promise<TestDb> {
  const client = new MongoClient(mongoUri(), { serverSelectionTimeoutMS: 10_000 });
  await client.connect();
  const name = uniqueName("auditq_test").replace(/-/g, "_");
  const db = client.db(name);
  return {
    client,
    db,
    name,
    async dispose() {
      await db.dropDatabase();
      await client.close();
    },
  };
}

/**
 * Polls `probe` until `until(value)` holds, or throws after `timeoutMs` with the last value
 * seen, so a failing test says what it was waiting for. Returns the value that satisfied it.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T>,
  until: (value: T) => boolean,
  { timeoutMs = 30_000, intervalMs = 100 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (until(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what} (last value: ${JSON.stringify(value)})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

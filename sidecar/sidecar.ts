// The consumer: long-polls SQS, writes records into MongoDB, deletes only what is durably stored.
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
  type SQSClientConfig,
} from "@aws-sdk/client-sqs";
import { type Collection, type Document, MongoClient, type WriteConcernSettings } from "mongodb";
import { Registry } from "prom-client";
import { type BackoffPolicy, backoffDelay, sleep } from "../shared/backoff.js";
import { ATTR_FORMAT, decodeMessage } from "../shared/envelope.js";
import { ConfigError } from "../shared/errors.js";
import { consoleLogger, type Logger } from "../shared/logger.js";
import {
  SQS_MAX_BATCH_ENTRIES,
  SQS_MAX_RECEIVE_MESSAGES,
  SQS_MAX_VISIBILITY_TIMEOUT_SECONDS,
  SQS_MAX_WAIT_TIME_SECONDS,
} from "../shared/sqs-limits.js";
import { createSidecarMetrics } from "./metrics.js";
import { insertRecords } from "./mongo-sink.js";

/** Options of `createSidecar(options)`. */
export interface SidecarOptions {
  /** URL of the SQS queue to consume. Required. */
  queueUrl: string;
  /** A connected-or-not `MongoClient`, or a connection string. Required. */
  mongo: MongoClient | string;
  /** Database name. Default `"auditq"`. */
  database?: string | undefined;
  /** Collection name. Default `"records"`. */
  collection?: string | undefined;
  /** An `SQSClient`, or the config to build one. Default: the AWS SDK's own chain. */
  sqs?: SQSClient | SQSClientConfig | undefined;
  /** Long-poll loops running at once. Default 1. */
  pollers?: number | undefined;
  /** Long-poll wait, 0 to 20. Default 20. */
  waitTimeSeconds?: number | undefined;
  /** How long a received message stays hidden from other consumers. Default 60. */
  visibilityTimeoutSeconds?: number | undefined;
  /** Write concern of inserts. Default `{ w: "majority", journal: true }`. */
  writeConcern?: WriteConcernSettings | undefined;
  /** prom-client registry for the metrics. Default: a private registry, `sidecar.registry`. */
  registry?: Registry | undefined;
  /** A pino-compatible logger. Default: warnings and errors to the console. */
  logger?: Logger | undefined;
}

export interface Sidecar {
  /** Connects to MongoDB and starts polling. Resolves once the pollers run. */
  start(): Promise<void>;
  /** Stops polling (aborting long polls), finishes the batches in hand, closes what it opened. Idempotent. */
  stop(): Promise<void>;
  /** True while polling and the last SQS and MongoDB calls succeeded. */
  isReady(): boolean;
  readonly registry: Registry;
}

const RETRY: BackoffPolicy = { baseMs: 200, maxMs: 30_000 };

function intOption(name: string, value: unknown, fallback: number, min: number, max: number) {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(
      `Expected \`${name}\` to be an integer from ${min} to ${max}, got \`${String(value)}\``,
    );
  }
  return value;
}

/** Creates the sidecar. Nothing connects until `start()`. */
export function createSidecar(options: SidecarOptions): Sidecar {
  if (typeof options.queueUrl !== "string" || !/^https?:\/\/\S+$/.test(options.queueUrl)) {
    throw new ConfigError(
      `Expected \`queueUrl\` to be an SQS queue URL, got \`${String(options.queueUrl)}\``,
    );
  }
  if (!(options.mongo instanceof MongoClient) && typeof options.mongo !== "string") {
    throw new ConfigError("Expected `mongo` to be a MongoClient or a connection string");
  }
  const config = {
    queueUrl: options.queueUrl,
    database: options.database ?? "auditq",
    collection: options.collection ?? "records",
    pollers: intOption("pollers", options.pollers, 1, 1, 100),
    waitTimeSeconds: intOption(
      "waitTimeSeconds",
      options.waitTimeSeconds,
      SQS_MAX_WAIT_TIME_SECONDS,
      0,
      SQS_MAX_WAIT_TIME_SECONDS,
    ),
    visibilityTimeoutSeconds: intOption(
      "visibilityTimeoutSeconds",
      options.visibilityTimeoutSeconds,
      60,
      1,
      SQS_MAX_VISIBILITY_TIMEOUT_SECONDS,
    ),
    writeConcern: options.writeConcern ?? { w: "majority", journal: true },
  } as const;
  const ownsMongo = !(options.mongo instanceof MongoClient);
  const mongo =
    options.mongo instanceof MongoClient ? options.mongo : new MongoClient(options.mongo);
  const ownsSqs = !(options.sqs instanceof SQSClient);
  const sqs = options.sqs instanceof SQSClient ? options.sqs : new SQSClient(options.sqs ?? {});
  const registry = options.registry ?? new Registry();
  const logger = options.logger ?? consoleLogger;
  const metrics = createSidecarMetrics(registry);

  const abort = new AbortController();
  let collection: Collection | undefined;
  let loops: Promise<void>[] = [];
  let sqsOk = false;
  let mongoOk = false;
  let stopping: Promise<void> | undefined;

  async function processMessages(coll: Collection, messages: Message[]): Promise<void> {
    metrics.messagesReceived.inc(messages.length);
    const docs: Document[] = [];
    const owner: number[] = [];
    const decodable: boolean[] = [];
    for (const [i, message] of messages.entries()) {
      try {
        const records = await decodeMessage(message);
        for (const record of records) {
          docs.push(record);
          owner.push(i);
        }
        decodable.push(true);
      } catch (err) {
        // Left on the queue: after maxReceiveCount deliveries the queue's redrive policy moves
        // it to the dead-letter queue, where an operator can look at it.
        decodable.push(false);
        metrics.messagesUndecodable.inc();
        logger.error(
          {
            err,
            messageId: message.MessageId,
            format: message.MessageAttributes?.[ATTR_FORMAT]?.StringValue,
          },
          "cannot decode SQS message; leaving it for the queue's redrive policy",
        );
      }
    }

    const stopWrite = metrics.writeSeconds.startTimer();
    const outcomes = await insertRecords(coll, docs, config.writeConcern);
    stopWrite();
    mongoOk = true;
    metrics.lastWrite.setToCurrentTime();

    const durable = messages.map((_, i) => decodable[i] === true);
    for (const [j, outcome] of outcomes.entries()) {
      if (outcome.kind === "written") metrics.recordsWritten.inc();
      else if (outcome.kind === "duplicate") metrics.recordsDuplicate.inc();
      else {
        metrics.recordsFailed.inc();
        durable[owner[j] as number] = false;
        logger.error(
          {
            code: outcome.code,
            reason: outcome.message,
            messageId: messages[owner[j] as number]?.MessageId,
          },
          "MongoDB refused a record; its message stays on the queue",
        );
      }
    }
    await deleteMessages(messages.filter((_, i) => durable[i]));
  }

  async function deleteMessages(messages: Message[]): Promise<void> {
    for (let i = 0; i < messages.length; i += SQS_MAX_BATCH_ENTRIES) {
      const chunk = messages.slice(i, i + SQS_MAX_BATCH_ENTRIES);
      try {
        const out = await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: config.queueUrl,
            Entries: chunk.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle })),
          }),
        );
        metrics.sqsRequests.inc({ operation: "DeleteMessageBatch", outcome: "ok" });
        metrics.messagesDeleted.inc(out.Successful?.length ?? 0);
        for (const failed of out.Failed ?? []) {
          // The message becomes visible again, is redelivered, and its records are then
          // duplicates: harmless, so this is a warning and not a retry loop.
          metrics.errors.inc({ stage: "delete" });
          logger.warn(
            {
              code: failed.Code,
              reason: failed.Message,
              messageId: chunk[Number(failed.Id)]?.MessageId,
            },
            "SQS did not delete a message; it will be redelivered and deduplicated",
          );
        }
      } catch (err) {
        metrics.sqsRequests.inc({ operation: "DeleteMessageBatch", outcome: "error" });
        metrics.errors.inc({ stage: "delete" });
        logger.warn(
          { err, messages: chunk.length },
          "DeleteMessageBatch failed; messages will be redelivered",
        );
      }
    }
  }

  async function pollLoop(coll: Collection): Promise<void> {
    let failures = 0;
    while (!abort.signal.aborted) {
      let messages: Message[];
      try {
        const out = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: config.queueUrl,
            MaxNumberOfMessages: SQS_MAX_RECEIVE_MESSAGES,
            WaitTimeSeconds: config.waitTimeSeconds,
            VisibilityTimeout: config.visibilityTimeoutSeconds,
            MessageAttributeNames: ["All"],
            MessageSystemAttributeNames: ["ApproximateReceiveCount"],
          }),
          { abortSignal: abort.signal },
        );
        metrics.sqsRequests.inc({ operation: "ReceiveMessage", outcome: "ok" });
        sqsOk = true;
        messages = out.Messages ?? [];
      } catch (err) {
        if (abort.signal.aborted) break;
        metrics.sqsRequests.inc({ operation: "ReceiveMessage", outcome: "error" });
        metrics.errors.inc({ stage: "receive" });
        sqsOk = false;
        failures++;
        const delay = backoffDelay(failures, RETRY);
        logger.warn({ err, retryInMs: delay }, "ReceiveMessage failed");
        await sleep(delay, abort.signal);
        continue;
      }
      if (messages.length === 0) continue;
      try {
        await processMessages(coll, messages);
        failures = 0;
      } catch (err) {
        // Outcome unknown: delete nothing. SQS redelivers after the visibility timeout and the
        // duplicate _id makes the second write harmless.
        mongoOk = false;
        metrics.errors.inc({ stage: "write" });
        failures++;
        const delay = backoffDelay(failures, RETRY);
        logger.warn({ err, messages: messages.length, retryInMs: delay }, "MongoDB write failed");
        await sleep(delay, abort.signal);
      }
    }
  }

  return {
    registry,
    async start() {
      if (stopping) throw new ConfigError("a stopped sidecar cannot be started again");
      if (collection) return;
      if (ownsMongo) await mongo.connect();
      collection = mongo.db(config.database).collection(config.collection);
      mongoOk = true;
      const coll = collection;
      loops = Array.from({ length: config.pollers }, () => pollLoop(coll));
      logger.info({ queueUrl: config.queueUrl, pollers: config.pollers }, "sidecar started");
    },
    stop() {
      stopping ??= (async () => {
        abort.abort();
        try {
          await Promise.all(loops);
        } finally {
          if (ownsMongo) await mongo.close();
          if (ownsSqs) sqs.destroy();
          logger.info({}, "sidecar stopped");
        }
      })();
      return stopping;
    },
    isReady() {
      return collection !== undefined && stopping === undefined && sqsOk && mongoOk;
    },
  };
}

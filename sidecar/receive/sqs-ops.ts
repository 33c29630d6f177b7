// The sidecar's SQS calls: receive, delete and change visibility in batches of 10, each counted.
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { backoffDelay, RETRY_POLICIES } from "../../shared/util/backoff.js";
import { isRetryableAwsError } from "../../shared/util/errors.js";
import type { Logger } from "../../shared/util/logger.js";
import { sleep } from "../../shared/util/timers.js";
import {
  billedRequests,
  messageBytes,
  SQS_MAX_BATCH_ENTRIES,
} from "../../shared/wire/sqs-limits.js";
import type { SidecarMetrics, SqsOperation } from "../config/metrics.js";

const ATTEMPTS = 3;
const RETRY = RETRY_POLICIES.sqsBatchEntries;
/** Failed entries that mean "this receipt no longer owns the message": retrying cannot help. */
const GONE = new Set(["ReceiptHandleIsInvalid", "MessageNotInflight", "InvalidParameterValue"]);

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += SQS_MAX_BATCH_ENTRIES) {
    out.push(items.slice(i, i + SQS_MAX_BATCH_ENTRIES));
  }
  return out;
}

export class SqsOps {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly metrics: SidecarMetrics,
    private readonly logger: Logger,
  ) {}

  private count(operation: SqsOperation, outcome: "ok" | "error", payloadBytes = 0): void {
    this.metrics.sqsRequests.inc({ operation, outcome });
    this.metrics.sqsBilled.inc({ operation }, billedRequests(payloadBytes));
  }

  /** One long poll. Throws on failure (the poller backs off). */
  async receive(
    maxMessages: number,
    waitTimeSeconds: number,
    visibilityTimeoutSeconds: number,
    signal: AbortSignal,
  ): Promise<Message[]> {
    try {
      const out = await this.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.queueUrl,
          MaxNumberOfMessages: maxMessages,
          WaitTimeSeconds: waitTimeSeconds,
          VisibilityTimeout: visibilityTimeoutSeconds,
          MessageAttributeNames: ["All"],
          MessageSystemAttributeNames: ["ApproximateReceiveCount"],
        }),
        { abortSignal: signal },
      );
      const messages = out.Messages ?? [];
      const bytes = messages.reduce(
        (sum, m) => sum + messageBytes(m.Body ?? "", m.MessageAttributes ?? {}),
        0,
      );
      this.count("ReceiveMessage", "ok", bytes);
      return messages;
    } catch (err) {
      if (!signal.aborted) this.count("ReceiveMessage", "error");
      throw err;
    }
  }

  /**
   * Deletes `messages`, ≤ 10 per call, retrying failed calls and failed entries a few times.
   * Returns how many were deleted. What stays undeleted is redelivered and then deduplicated.
   */
  deleteMessages(messages: readonly Message[]): Promise<number> {
    return this.batched("DeleteMessageBatch", messages, (entries) =>
      this.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries })),
    );
  }

  /** Sets the visibility timeout of `messages` (0 = release now). Returns how many succeeded. */
  changeVisibility(messages: readonly Message[], seconds: number): Promise<number> {
    return this.batched("ChangeMessageVisibilityBatch", messages, (entries) =>
      this.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: entries.map((e) => ({ ...e, VisibilityTimeout: seconds })),
        }),
      ),
    );
  }

  private async batched(
    operation: "DeleteMessageBatch" | "ChangeMessageVisibilityBatch",
    messages: readonly Message[],
    call: (
      entries: { Id: string; ReceiptHandle: string | undefined }[],
    ) => Promise<{ Failed?: { Id?: string; Code?: string; Message?: string }[] | undefined }>,
  ): Promise<number> {
    let succeeded = 0;
    for (const chunk of chunks(messages)) {
      let pending = chunk;
      for (let attempt = 1; pending.length > 0 && attempt <= ATTEMPTS; attempt++) {
        if (attempt > 1) await sleep(backoffDelay(attempt - 1, RETRY));
        let failed: { Id?: string; Code?: string; Message?: string }[];
        try {
          const out = await call(
            pending.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
          );
          this.count(operation, "ok");
          failed = out.Failed ?? [];
        } catch (err) {
          this.count(operation, "error");
          this.metrics.errors.inc({
            stage: operation === "DeleteMessageBatch" ? "delete" : "visibility",
          });
          this.logger.warn(
            { err, operation, messages: pending.length, attempt },
            `${operation} failed`,
          );
          if (!isRetryableAwsError(err)) break;
          continue;
        }
        const retry: Message[] = [];
        for (const f of failed) {
          const message = pending[Number(f.Id)];
          if (message === undefined) continue;
          if (f.Code !== undefined && GONE.has(f.Code)) {
            // Another receive owns the message now; it comes back, is a duplicate, is deleted then.
            this.logger.info(
              { operation, code: f.Code, messageId: message.MessageId },
              "receipt handle no longer valid; the message will be redelivered",
            );
          } else {
            retry.push(message);
          }
        }
        succeeded += pending.length - failed.length;
        if (retry.length > 0) {
          this.metrics.errors.inc({
            stage: operation === "DeleteMessageBatch" ? "delete" : "visibility",
          });
          this.logger.warn(
            { operation, failed: retry.length, codes: failed.map((f) => f.Code), attempt },
            `${operation} entries failed`,
          );
        }
        pending = retry;
      }
    }
    return succeeded;
  }

  /** Queue depth for the gauges; undefined when SQS cannot be asked. */
  async depth(): Promise<{ visible: number; inflight: number; delayed: number } | undefined> {
    try {
      const out = await this.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: this.queueUrl,
          AttributeNames: [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
          ],
        }),
        { abortSignal: AbortSignal.timeout(5_000) },
      );
      this.count("GetQueueAttributes", "ok");
      const a = out.Attributes ?? {};
      return {
        visible: Number(a.ApproximateNumberOfMessages ?? 0),
        inflight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
        delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
      };
    } catch (err) {
      this.count("GetQueueAttributes", "error");
      this.logger.warn({ err }, "GetQueueAttributes failed; queue depth gauges not updated");
      return undefined;
    }
  }
}

// `auditq-sidecar create-queue`: creates the audit queue and its dead-letter queue for auditq.
// Idempotent: run again with the same settings, it finds the queues and resets their attributes
// to these values.
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { ConfigError } from "../../shared/util/errors.js";
import { SQS_LEGACY_MAX_MESSAGE_BYTES } from "../../shared/wire/sqs-limits.js";
import { SIDECAR_OPTIONS } from "../config/option-table.js";

export interface CreateQueueOptions {
  /** Name of the audit queue (standard, not FIFO). */
  queueName: string;
  /** Name of its dead-letter queue. Default `<queueName>-dlq`. */
  dlqName?: string | undefined;
  /**
   * Receives before SQS moves a message to the DLQ. Default 100. It must be high: SQS counts
   * every receive, and the sidecar gives messages back unwritten on purpose (at shutdown, while
   * MongoDB is down, when a write fails with an unknown outcome). Each of those is a receive, so
   * a low count (the console suggests 3-10) would push healthy records into the DLQ, which no
   * sidecar reads, during an ordinary MongoDB outage or a few rolling deploys.
   */
  maxReceiveCount?: number | undefined;
  /** Seconds SQS keeps a message: how long a MongoDB outage may last. Default 1209600 (14 days, the most SQS allows). */
  retentionSeconds?: number | undefined;
  /** A customer-managed KMS key (id, ARN or alias) to encrypt with; default SQS-managed SSE (SQS's own default). */
  kmsKeyId?: string | undefined;
}

export interface CreatedQueues {
  queueUrl: string;
  queueArn: string;
  dlqUrl: string;
  dlqArn: string;
}

/** What `create-queue` sets when not told otherwise; the alert rules quote its retention. */
export const CREATE_QUEUE_DEFAULTS = {
  maxReceiveCount: 100,
  retentionSeconds: 1_209_600,
  /** Matches the middleware's default maxMessageBytes. */
  maximumMessageSize: SQS_LEGACY_MAX_MESSAGE_BYTES,
  /** The sidecar asks for its own at each receive; this applies to other consumers. */
  visibilityTimeoutSeconds: SIDECAR_OPTIONS.visibilityTimeoutSeconds.default,
  /** Long polling for any consumer that does not ask for it. */
  receiveWaitSeconds: 20,
  /** A data key reused for 5 minutes: one KMS call per 5 minutes instead of per message. */
  kmsDataKeyReuseSeconds: 300,
} as const;

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;

function check(options: CreateQueueOptions): Required<Omit<CreateQueueOptions, "kmsKeyId">> {
  const dlqName = options.dlqName ?? `${options.queueName}-dlq`;
  for (const [flag, name] of [
    ["--queue-name", options.queueName],
    ["--dlq-name", dlqName],
  ] as const) {
    if (typeof name !== "string" || !QUEUE_NAME.test(name)) {
      throw new ConfigError(
        `${flag}: expected a standard queue name (1-80 letters, digits, - or _), got ${JSON.stringify(name)}`,
      );
    }
  }
  const maxReceiveCount = options.maxReceiveCount ?? CREATE_QUEUE_DEFAULTS.maxReceiveCount;
  if (!Number.isInteger(maxReceiveCount) || maxReceiveCount < 1 || maxReceiveCount > 1000) {
    throw new ConfigError(`--max-receive-count: expected 1 to 1000, got ${maxReceiveCount}`);
  }
  const retentionSeconds = options.retentionSeconds ?? CREATE_QUEUE_DEFAULTS.retentionSeconds;
  if (
    !Number.isInteger(retentionSeconds) ||
    retentionSeconds < 60 ||
    retentionSeconds > 1_209_600
  ) {
    throw new ConfigError(`--retention-seconds: expected 60 to 1209600, got ${retentionSeconds}`);
  }
  return { queueName: options.queueName, dlqName, maxReceiveCount, retentionSeconds };
}

/** With a key, SSE-KMS; without, nothing to set: SQS encrypts new queues with SSE-SQS by default. */
function encryption(kmsKeyId: string | undefined): Record<string, string> {
  return kmsKeyId
    ? {
        KmsMasterKeyId: kmsKeyId,
        KmsDataKeyReusePeriodSeconds: String(CREATE_QUEUE_DEFAULTS.kmsDataKeyReuseSeconds),
      }
    : {};
}

async function ensureQueue(
  sqs: SQSClient,
  name: string,
  attributes: Record<string, string>,
): Promise<{ url: string; arn: string }> {
  // CreateQueue returns the existing queue when the attributes match; when they differ it
  // fails, so create bare and then set the attributes, which works both times.
  const created = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const url = created.QueueUrl as string;
  await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: attributes }));
  const got = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }),
  );
  return { url, arn: got.Attributes?.QueueArn as string };
}

/** Creates (or updates) the DLQ, then the audit queue with a redrive policy to it. */
export async function createAuditQueues(
  sqs: SQSClient,
  options: CreateQueueOptions,
): Promise<CreatedQueues> {
  const o = check(options);
  const common = {
    MessageRetentionPeriod: String(o.retentionSeconds),
    ...encryption(options.kmsKeyId),
  };
  const dlq = await ensureQueue(sqs, o.dlqName, common);
  const queue = await ensureQueue(sqs, o.queueName, {
    ...common,
    MaximumMessageSize: String(CREATE_QUEUE_DEFAULTS.maximumMessageSize),
    VisibilityTimeout: String(CREATE_QUEUE_DEFAULTS.visibilityTimeoutSeconds),
    ReceiveMessageWaitTimeSeconds: String(CREATE_QUEUE_DEFAULTS.receiveWaitSeconds),
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: dlq.arn,
      maxReceiveCount: o.maxReceiveCount,
    }),
  });
  return { queueUrl: queue.url, queueArn: queue.arn, dlqUrl: dlq.url, dlqArn: dlq.arn };
}

const FLAGS: Record<string, keyof CreateQueueOptions> = {
  "--queue-name": "queueName",
  "--dlq-name": "dlqName",
  "--max-receive-count": "maxReceiveCount",
  "--retention-seconds": "retentionSeconds",
  "--kms-key-id": "kmsKeyId",
};
const NUMERIC = new Set<keyof CreateQueueOptions>(["maxReceiveCount", "retentionSeconds"]);

export const CREATE_QUEUE_HELP = `Usage: auditq-sidecar create-queue --queue-name NAME [flags]

Creates (or updates) the audit queue and its dead-letter queue, and prints their URLs and ARNs
as JSON. Region, credentials and endpoint come from the AWS SDK's chain (AWS_REGION, ...,
AWS_ENDPOINT_URL_SQS).

  --queue-name NAME          the audit queue (required)
  --dlq-name NAME            its dead-letter queue (default NAME-dlq)
  --max-receive-count N      receives before the DLQ (default ${CREATE_QUEUE_DEFAULTS.maxReceiveCount}; keep it high: the sidecar's releases count as receives)
  --retention-seconds N      how long SQS keeps messages (default ${CREATE_QUEUE_DEFAULTS.retentionSeconds}, 14 days)
  --kms-key-id KEY           encrypt with this customer-managed KMS key (default SQS-managed SSE)`;

/** `--flag value` or `--flag=value`; unknown flags and bad numbers are ConfigErrors. */
export function parseCreateQueueArgs(argv: readonly string[]): CreateQueueOptions {
  const out: Record<string, string | number> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.indexOf("=");
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const key = FLAGS[flag];
    if (key === undefined)
      throw new ConfigError(`create-queue: unknown argument ${JSON.stringify(arg)}`);
    const raw = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (raw === undefined || raw === "")
      throw new ConfigError(`create-queue: ${flag} needs a value`);
    if (NUMERIC.has(key) && !/^\d+$/.test(raw)) {
      throw new ConfigError(
        `create-queue: ${flag} expects a whole number, got ${JSON.stringify(raw)}`,
      );
    }
    out[key] = NUMERIC.has(key) ? Number(raw) : raw;
  }
  if (out.queueName === undefined) throw new ConfigError("create-queue: --queue-name is required");
  return out as unknown as CreateQueueOptions;
}

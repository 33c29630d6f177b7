// The raw SendMessageBatch call: encoded messages in, SQS's verdict on each entry out, within a
// deadline; what a verdict means is delivery.ts's business.
import {
  type MessageAttributeValue,
  SendMessageBatchCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { AuditqError } from "../../shared/util/errors.js";
import {
  ATTR_PAYLOAD,
  type PayloadEncoding,
  payloadDataType,
} from "../../shared/wire/payload-attribute.js";
import { ATTR_SIGNATURE, signMessage } from "../../shared/wire/signature.js";
import type { EncodedMessage } from "../message/packer.js";

/** What became of each message of one call, by its index in the call. */
export interface CallVerdicts {
  /** SQS stored these. */
  sent: number[];
  /** SQS failed these on its side (not the sender's fault): send them again. */
  retry: number[];
  /** SQS refused these as the sender's fault: sending them again cannot help. */
  rejected: Array<{ index: number; code: string; message: string }>;
}

/**
 * Sends up to 10 messages in one call. Throws whatever the SDK throws when the call as a whole
 * fails (network, throttling, 5xx, access); the caller classifies it and decides about retries.
 */
export async function sendBatch(
  sqs: SQSClient,
  queueUrl: string,
  messages: readonly EncodedMessage[],
  abortSignal?: AbortSignal,
  signingSecret?: string,
): Promise<CallVerdicts> {
  const out = await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: messages.map((m, i) => ({
        Id: String(i),
        MessageBody: m.body,
        MessageAttributes: entryAttributes(m, signingSecret),
      })),
    }),
    abortSignal === undefined ? undefined : { abortSignal },
  );
  const verdicts: CallVerdicts = { sent: [], retry: [], rejected: [] };
  const seen = new Set<number>();
  for (const ok of out.Successful ?? []) {
    const index = Number(ok.Id);
    if (index >= 0 && index < messages.length && !seen.has(index)) {
      seen.add(index);
      verdicts.sent.push(index);
    }
  }
  for (const failed of out.Failed ?? []) {
    const index = Number(failed.Id);
    if (!(index >= 0 && index < messages.length) || seen.has(index)) continue;
    seen.add(index);
    if (failed.SenderFault) {
      verdicts.rejected.push({
        index,
        code: failed.Code ?? "unknown",
        message: failed.Message ?? "",
      });
    } else {
      verdicts.retry.push(index);
    }
  }
  // An entry SQS did not mention at all was not stored: send it again rather than lose it.
  for (let i = 0; i < messages.length; i++) if (!seen.has(i)) verdicts.retry.push(i);
  return verdicts;
}

/**
 * One call, abandoned after `timeoutMs` or when `stop` aborts (close() giving up). The deadline
 * is a plain timer that rejects the race itself: it depends neither on the SDK honouring the
 * abort, nor on a composed `AbortSignal.any(...)`, which Node 20 can garbage-collect before it
 * fires.
 */
export async function sendBatchWithin(
  sqs: SQSClient,
  queueUrl: string,
  messages: readonly EncodedMessage[],
  timeoutMs: number,
  stop: AbortSignal,
  signingSecret?: string,
): Promise<CallVerdicts> {
  const call = new AbortController();
  const onStop = () => call.abort(stop.reason);
  stop.addEventListener("abort", onStop, { once: true });
  if (stop.aborted) onStop();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      const err = new AuditqError(
        "ERR_AUDITQ_SQS",
        `SendMessageBatch did not answer within ${timeoutMs} ms`,
        { retryable: true },
      );
      call.abort(err);
      reject(err);
    }, timeoutMs);
    // Idle, a library holds no process open; close() and flush() keep it alive themselves.
    timer.unref();
    call.signal.addEventListener("abort", () => reject(call.signal.reason), { once: true });
  });
  try {
    return await Promise.race([
      sendBatch(sqs, queueUrl, messages, call.signal, signingSecret),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
    stop.removeEventListener("abort", onStop);
  }
}

/**
 * The attributes of one entry: a fresh object per entry and per attempt, because
 * instrumentation (OpenTelemetry's aws-sdk one) writes trace context into it in place, which
 * must not reach other messages. The payload attribute carries the message's compressed bytes;
 * the signature covers them.
 */
function entryAttributes(
  m: EncodedMessage,
  signingSecret: string | undefined,
): Record<string, MessageAttributeValue> {
  const attributes: Record<string, MessageAttributeValue> = {};
  for (const name of Object.keys(m.attributes)) {
    const value = m.attributes[name] as { DataType: string; StringValue: string };
    attributes[name] = { DataType: value.DataType, StringValue: value.StringValue };
  }
  if (m.payload !== undefined) {
    attributes[ATTR_PAYLOAD] = {
      DataType: payloadDataType(m.encoding as PayloadEncoding),
      BinaryValue: m.payload,
    };
  }
  if (signingSecret !== undefined) {
    attributes[ATTR_SIGNATURE] = {
      DataType: "String",
      StringValue: signMessage(m.body, attributes, signingSecret),
    };
  }
  return attributes;
}

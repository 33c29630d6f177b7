// SQS service limits and billing rules that both the batcher and the sidecar depend on, and
// message size as SQS counts it against them.

/** Entries in one SendMessageBatch, DeleteMessageBatch or ChangeMessageVisibilityBatch call. */
export const SQS_MAX_BATCH_ENTRIES = 10;

/** Messages one ReceiveMessage call may return. */
export const SQS_MAX_RECEIVE_MESSAGES = 10;

/** Longest long poll SQS allows. */
export const SQS_MAX_WAIT_TIME_SECONDS = 20;

/** SQS bills each request per started 64 KiB chunk of payload. */
export const SQS_BILLING_CHUNK_BYTES = 64 * 1024;

/**
 * Message size (body plus attributes) that every queue accepts. Queues created before
 * August 2025 keep this as their `MaximumMessageSize` unless raised by hand.
 */
export const SQS_LEGACY_MAX_MESSAGE_BYTES = 262_144;

/** The highest `MaximumMessageSize` SQS allows since August 2025; also the batch total limit. */
export const SQS_MAX_MESSAGE_BYTES = 1_048_576;

/** Longest visibility timeout SQS allows (12 hours). */
export const SQS_MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200;

/** Number of billed requests SQS counts for one call carrying `payloadBytes`. */
export function billedRequests(payloadBytes: number): number {
  return Math.max(1, Math.ceil(payloadBytes / SQS_BILLING_CHUNK_BYTES));
}

/** UTF-8 length of a string, as SQS counts message size. */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/** A message attribute, as sent or received. */
export interface MessageAttributeLike {
  DataType?: string | undefined;
  StringValue?: string | undefined;
  BinaryValue?: Uint8Array | undefined;
}

/**
 * Size of a message the way SQS counts it against `MaximumMessageSize`: the body plus, for
 * each attribute, its name, data type and value.
 */
export function messageBytes(
  body: string,
  attributes: Record<string, MessageAttributeLike> = {},
): number {
  let bytes = utf8Bytes(body);
  for (const [name, attr] of Object.entries(attributes)) {
    bytes += utf8Bytes(name) + utf8Bytes(attr.DataType ?? "");
    if (attr.StringValue !== undefined) bytes += utf8Bytes(attr.StringValue);
    if (attr.BinaryValue !== undefined) bytes += attr.BinaryValue.byteLength;
  }
  return bytes;
}

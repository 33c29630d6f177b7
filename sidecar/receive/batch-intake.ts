// Takes in the batch of messages one receive returned, and decides what becomes of each.
// Holds each, decodes it into queued records (decode-message.ts), quarantines what cannot be
// decoded and deletes what holds no record.
import type { Message } from "@aws-sdk/client-sqs";
import type { Collection } from "mongodb";
import type { Logger } from "../../shared/util/logger.js";
import { DEFAULT_DECODE_LIMITS } from "../../shared/wire/decoder.js";
import { ATTR_FORMAT } from "../../shared/wire/envelope.js";
import type { SidecarMetrics } from "../config/metrics.js";
import type { Config } from "../config/resolve.js";
import type { Settler } from "../settle/settler.js";
import type { VisibilityKeeper } from "../settle/visibility.js";
import type { Wakeup } from "../wakeup.js";
import type { Deadline } from "../write/deadline.js";
import { type QuarantineEntry, quarantine, quarantinedMessage } from "../write/quarantine.js";
import { cappedReleaseSeconds, type QuarantineGate } from "../write/quarantine-gate.js";
import { decodeMessage } from "./decode-message.js";
import type { HeldAmount } from "./held-budget.js";
import type { HeldMessage } from "./held-message.js";
import type { RecordBuffer } from "./record-buffer.js";

export interface BatchIntakeDeps {
  config: Pick<
    Config,
    "writeConcern" | "signingSecrets" | "maxRecordsPerMessage" | "maxBufferedRecords"
  >;
  buffer: RecordBuffer;
  keeper: VisibilityKeeper;
  settler: Settler;
  quarantined: Collection;
  /** Every quarantine write passes it first: its cap, then the write budget. */
  quarantineGate: QuarantineGate;
  deadline: Deadline;
  maxHeld: HeldAmount;
  /** Notified when records are queued; waited on for room among the held records. */
  wakeup: Wakeup;
  signal: AbortSignal;
  /** Whether MongoDB answers a ping (tells a refused entry from an outage). */
  mongoAnswers(): Promise<boolean>;
  /** Visibility delay of a message released because its quarantine failed. */
  releaseDelaySeconds(): number;
  metrics: SidecarMetrics;
  logger: Logger;
}

function undecodableEntry(held: HeldMessage, reason: string): QuarantineEntry {
  const { message } = held;
  return {
    kind: "message",
    messageId: held.messageId,
    receiveCount: held.receiveCount,
    ...quarantinedMessage(message),
    error: { message: reason },
  };
}

/** Held (and heartbeated) from receipt: decoding a message may wait for room. */
function holdOnReceipt(message: Message, keeper: VisibilityKeeper): HeldMessage {
  const held: HeldMessage = {
    message,
    messageId: message.MessageId ?? "",
    receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 1),
    pending: 0,
    failed: false,
    extendedAt: Date.now(),
    decodedBytes: 0,
  };
  keeper.add(held);
  return held;
}

/** Returns the handler of a receive's batch of messages. */
export function createBatchIntake(d: BatchIntakeDeps): (messages: Message[]) => Promise<void> {
  const { config } = d;
  const limits = {
    maxRecords: config.maxRecordsPerMessage,
    maxValues: DEFAULT_DECODE_LIMITS.maxValues,
  };
  return async function intakeBatch(messages) {
    d.metrics.messagesReceived.inc(messages.length);
    const batch = messages.map((m) => holdOnReceipt(m, d.keeper));
    const undecodable: QuarantineEntry[] = [];
    const undecodableHeld: HeldMessage[] = [];
    const empty: HeldMessage[] = [];
    for (const held of batch) {
      const outcome = await decodeMessage(held.message, {
        signingSecrets: config.signingSecrets,
        limits,
        maxMessageRecords: config.maxBufferedRecords,
        maxHeld: d.maxHeld,
        held: () => ({ records: d.buffer.heldRecords, bytes: d.buffer.heldBytes }),
        waitForRoom: (signal) => d.wakeup.wait(signal),
        hold: (docs, decodedBytes, stream) => {
          held.pending = docs.length;
          held.stream = stream; // before any of its records can be stored and settled
          held.decodedBytes = decodedBytes;
          d.buffer.add(held, docs);
          d.wakeup.notify(); // the writer, which may sleep on an empty buffer
        },
        signal: d.signal,
      });
      if (outcome.kind === "aborted") break; // still held: stop() releases it
      if (outcome.kind === "held") held.stream = outcome.stream; // empty ones: never held
      if (outcome.kind === "rejected") {
        d.logger.error(
          {
            messageId: held.messageId,
            format: held.message.MessageAttributes?.[ATTR_FORMAT]?.StringValue,
            reason: outcome.reason,
          },
          "cannot decode SQS message; quarantining it",
        );
        undecodable.push(undecodableEntry(held, outcome.reason));
        undecodableHeld.push(held);
      } else if (outcome.records === 0) {
        empty.push(held);
      }
    }
    if (undecodable.length > 0 && (await quarantineUndecodable(d, undecodable, undecodableHeld))) {
      empty.push(...undecodableHeld);
    }
    for (const held of empty) d.keeper.remove(held);
    if (empty.length > 0) d.settler.settleEmpty(empty);
  };
}

/**
 * Stores the undecodable messages in quarantine; true when they are stored (and may be deleted).
 * When they cannot be stored, or the quarantine's cap refuses them, they are released: they come
 * again (capped ones ever later, until the queue's redrive policy moves them to the DLQ).
 */
async function quarantineUndecodable(
  d: BatchIntakeDeps,
  entries: QuarantineEntry[],
  held: HeldMessage[],
): Promise<boolean> {
  const admission = await d.quarantineGate.admit(entries.length, d.signal);
  if (admission !== "admitted") {
    const receiveCount = Math.min(...held.map((h) => h.receiveCount));
    const delay = admission === "capped" ? cappedReleaseSeconds(receiveCount) : 0;
    d.metrics.messagesReleased.inc(await d.keeper.release(held, delay));
    return false;
  }
  try {
    const stored = await d.deadline(
      "quarantine",
      quarantine(d.quarantined, entries, d.config.writeConcern, d.mongoAnswers),
    );
    d.metrics.messagesQuarantined.inc(entries.length);
    if (stored.reduced > 0) {
      d.logger.warn({ reduced: stored.reduced }, "quarantine entries stored reduced");
    }
    return true;
  } catch (err) {
    // Not stored anywhere: release the messages, they come again.
    d.metrics.errors.inc({ stage: "quarantine" });
    d.logger.warn({ err, messages: entries.length }, "cannot quarantine; messages stay queued");
    d.metrics.messagesReleased.inc(await d.keeper.release(held, d.releaseDelaySeconds()));
    return false;
  }
}

// Takes received messages in: measures and decodes them within the limits, queues their records
// for writing, quarantines what cannot be decoded and deletes what holds no record.
import type { Message } from "@aws-sdk/client-sqs";
import type { Collection, WriteConcernSettings } from "mongodb";
import type { Logger } from "../../shared/util/logger.js";
import { ATTR_FORMAT } from "../../shared/wire/envelope.js";
import type { DecodeLimits } from "../../shared/wire/json-bounds.js";
import type { SidecarMetrics } from "../config/metrics.js";
import type { Settler } from "../settle/settler.js";
import type { InHand, VisibilityKeeper } from "../settle/visibility.js";
import type { Wakeup } from "../wakeup.js";
import type { Deadline } from "../write/deadline.js";
import { type QuarantineEntry, quarantine, quarantinedMessage } from "../write/quarantine.js";
import { takeIn } from "./decode-message.js";
import type { InHandAmount } from "./held-budget.js";
import type { RecordBuffer } from "./record-buffer.js";

export interface IntakeDeps {
  buffer: RecordBuffer;
  keeper: VisibilityKeeper;
  settler: Settler;
  quarantined: Collection;
  deadline: Deadline;
  writeConcern: WriteConcernSettings;
  signingSecrets: readonly string[];
  limits: DecodeLimits;
  /** `maxBufferedRecords`: a message with more records is quarantined. */
  maxMessageRecords: number;
  maxInHand: InHandAmount;
  /** Notified when records in hand are settled. */
  wakeup: Wakeup;
  signal: AbortSignal;
  /** Whether MongoDB answers a ping (tells a refused entry from an outage). */
  mongoAnswers(): Promise<boolean>;
  /** Visibility delay of a message given back because its quarantine failed. */
  releaseDelaySeconds(): number;
  metrics: SidecarMetrics;
  logger: Logger;
}

function undecodableEntry(owner: InHand, reason: string): QuarantineEntry {
  const { message } = owner;
  return {
    kind: "message",
    messageId: owner.messageId,
    receiveCount: owner.receiveCount,
    ...quarantinedMessage(message),
    error: { message: reason },
  };
}

/** Held (and heartbeated) from receipt: taking a message in may wait for room. */
function holdOnReceipt(message: Message, keeper: VisibilityKeeper): InHand {
  const owner: InHand = {
    message,
    messageId: message.MessageId ?? "",
    receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 1),
    pending: 0,
    failed: false,
    extendedAt: Date.now(),
    decodedBytes: 0,
  };
  keeper.add(owner);
  return owner;
}

/** Returns the handler of a receive's messages. */
export function createIntake(d: IntakeDeps): (messages: Message[]) => Promise<void> {
  return async function handle(messages) {
    d.metrics.messagesReceived.inc(messages.length);
    const owners = messages.map((m) => holdOnReceipt(m, d.keeper));
    const undecodable: QuarantineEntry[] = [];
    const undecodableOwners: InHand[] = [];
    const empty: InHand[] = [];
    for (const owner of owners) {
      const result = await takeIn(owner.message, {
        signingSecrets: d.signingSecrets,
        limits: d.limits,
        maxMessageRecords: d.maxMessageRecords,
        maxInHand: d.maxInHand,
        inHand: () => ({ records: d.buffer.recordsInHand, bytes: d.buffer.bytesInHand }),
        waitForRoom: (signal) => d.wakeup.wait(signal),
        hold: (docs, decodedBytes) => {
          owner.pending = docs.length;
          owner.decodedBytes = decodedBytes;
          d.buffer.add(owner, docs);
          d.wakeup.notify(); // the writer, which may sleep on an empty buffer
        },
        signal: d.signal,
      });
      if (result.kind === "aborted") break; // still held: stop() releases it
      if (result.kind === "rejected") {
        d.logger.error(
          {
            messageId: owner.messageId,
            format: owner.message.MessageAttributes?.[ATTR_FORMAT]?.StringValue,
            reason: result.reason,
          },
          "cannot decode SQS message; quarantining it",
        );
        undecodable.push(undecodableEntry(owner, result.reason));
        undecodableOwners.push(owner);
      } else if (result.records === 0) {
        empty.push(owner);
      }
    }
    if (undecodable.length > 0) {
      try {
        const stored = await d.deadline(
          "quarantine",
          quarantine(d.quarantined, undecodable, d.writeConcern, d.mongoAnswers),
        );
        d.metrics.messagesQuarantined.inc(undecodable.length);
        if (stored.reduced > 0) {
          d.logger.warn({ reduced: stored.reduced }, "quarantine entries stored reduced");
        }
        empty.push(...undecodableOwners);
      } catch (err) {
        // Not stored anywhere: give the messages back, they come again.
        d.metrics.errors.inc({ stage: "quarantine" });
        d.logger.warn(
          { err, messages: undecodable.length },
          "cannot quarantine; messages stay queued",
        );
        d.metrics.messagesReleased.inc(
          await d.keeper.release(undecodableOwners, d.releaseDelaySeconds()),
        );
      }
    }
    for (const owner of empty) d.keeper.remove(owner);
    if (empty.length > 0) d.settler.settleEmpty(empty.map((o) => o.message));
  };
}

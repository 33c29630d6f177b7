// Takes received messages in: decodes them, queues their records for writing, quarantines what
// cannot be decoded and deletes what holds no record.
import type { Message } from "@aws-sdk/client-sqs";
import type { Collection, Document, WriteConcernSettings } from "mongodb";
import { ATTR_FORMAT, decodeMessage } from "../shared/envelope.js";
import type { Logger } from "../shared/logger.js";
import type { SidecarMetrics } from "./metrics.js";
import { type QuarantineEntry, quarantine } from "./quarantine.js";
import type { RecordBuffer } from "./record-buffer.js";
import { withDeterministicIds } from "./record-id.js";
import type { SqsOps } from "./sqs-ops.js";
import type { InHand, VisibilityKeeper } from "./visibility.js";

export interface IntakeDeps {
  buffer: RecordBuffer;
  keeper: VisibilityKeeper;
  sqsOps: SqsOps;
  quarantined: Collection;
  writeConcern: WriteConcernSettings;
  metrics: SidecarMetrics;
  logger: Logger;
}

function undecodableEntry(message: Message, receiveCount: number, reason: string): QuarantineEntry {
  return {
    kind: "message",
    messageId: message.MessageId ?? "",
    receiveCount,
    raw: message.Body ?? "",
    attributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue]),
    ),
    error: { message: reason },
  };
}

/** Returns the handler of a receive's messages. */
export function createIntake(d: IntakeDeps): (messages: Message[]) => Promise<void> {
  return async function handle(messages) {
    d.metrics.messagesReceived.inc(messages.length);
    const undecodable: QuarantineEntry[] = [];
    const undecodableMessages: Message[] = [];
    const empty: Message[] = [];
    for (const message of messages) {
      const messageId = message.MessageId ?? "";
      const receiveCount = Number(message.Attributes?.ApproximateReceiveCount ?? 1);
      let docs: Document[];
      try {
        docs = withDeterministicIds(await decodeMessage(message), message.MessageId);
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        d.logger.error(
          { messageId, format: message.MessageAttributes?.[ATTR_FORMAT]?.StringValue, reason },
          "cannot decode SQS message; quarantining it",
        );
        undecodable.push(undecodableEntry(message, receiveCount, reason));
        undecodableMessages.push(message);
        continue;
      }
      if (docs.length === 0) {
        empty.push(message);
        continue;
      }
      const owner: InHand = {
        message,
        messageId,
        receiveCount,
        pending: docs.length,
        failed: false,
        extendedAt: Date.now(),
      };
      d.keeper.add(owner);
      d.buffer.add(owner, docs);
    }
    if (undecodable.length > 0) {
      try {
        await quarantine(d.quarantined, undecodable, d.writeConcern);
        d.metrics.messagesQuarantined.inc(undecodable.length);
        empty.push(...undecodableMessages);
      } catch (err) {
        // Not stored anywhere: leave the messages on the queue, they come back.
        d.metrics.errors.inc({ stage: "quarantine" });
        d.logger.warn(
          { err, messages: undecodable.length },
          "cannot quarantine; messages stay queued",
        );
      }
    }
    if (empty.length > 0) d.metrics.messagesDeleted.inc(await d.sqsOps.deleteMessages(empty));
  };
}

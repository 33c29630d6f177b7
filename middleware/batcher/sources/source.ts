// Where a batch of encoded messages came from decides what "sent", "send again" and "given up"
// mean for it; the sender only ever calls these three, whatever the source.

import type { EncodedMessage } from "../../message/packer.js";
import { batchSize } from "../../message/packer.js";
import type { ByteQueue } from "../byte-queue.js";

/** Messages taken from a source for one SendMessageBatch call. */
export interface OutgoingBatch {
  readonly messages: readonly EncodedMessage[];
  /** SQS took these messages: the source forgets them. */
  ack(indices: readonly number[]): Promise<void>;
  /** These go out again later, ahead of newer messages. */
  retry(indices: readonly number[]): void;
  /** SQS refused these; the sender re-packs their records. The source forgets them. */
  reject(indices: readonly number[]): Promise<void>;
}

/** The messages at indices `indices` of `list`. */
export function pick<T>(list: readonly T[], indices: readonly number[]): T[] {
  return indices.map((i) => list[i] as T);
}

/** Encoded messages held in memory: taking one removes it, a retry puts it back at the head. */
export class MemorySource {
  private readonly ready: ByteQueue<EncodedMessage>;

  constructor(ready: ByteQueue<EncodedMessage>) {
    this.ready = ready;
  }

  /** The oldest messages that fit in one call of at most `maxBatchBytes`. */
  take(maxBatchBytes: number): OutgoingBatch {
    const messages = this.ready.takeFront(batchSize(this.ready.view, maxBatchBytes));
    const forget = () => Promise.resolve();
    return {
      messages,
      ack: forget,
      reject: forget,
      retry: (indices) => this.ready.pushFront(pick(messages, indices)),
    };
  }
}

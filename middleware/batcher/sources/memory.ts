// The message source of memory mode: encoded messages waiting in the ready queue.
import { batchSize, type EncodedMessage } from "../../message/packer.js";
import type { ByteQueue } from "../byte-queue.js";
import { type OutgoingBatch, pick } from "./source.js";

/** Encoded messages waiting in memory: taking one removes it, a retry puts it back at the head. */
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

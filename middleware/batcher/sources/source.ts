// Where a batch of encoded messages came from decides what "sent", "send again" and "given up"
// mean for it; the sender only ever calls these three, whatever the source.

import type { EncodedMessage } from "../../message/packer.js";

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

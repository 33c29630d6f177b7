// Turns records into encoded messages (compressed off the event loop) at the tail of the ready
// queue, and re-packs the records of a message SQS refused into two smaller ones at its head.
import { type ByteQueue, ByteTally } from "../batcher/byte-queue.js";
import type { DropReporter } from "../batcher/drop-reporter.js";
import { withSeqJson } from "./numbering.js";
import type { EncodedMessage, Item, Packer } from "./packer.js";
import { unpackItems } from "./unpack.js";

export interface EncoderConfig {
  packer: Packer;
  ready: ByteQueue<EncodedMessage>;
  drops: DropReporter;
  maxMessageBytes: number;
  /** Called when a job ends, whatever its outcome. */
  onJobEnded: () => void;
}

export class Encoder {
  private readonly config: EncoderConfig;
  /** Encoding jobs running, with the bytes of the records they hold. */
  readonly jobs = new ByteTally();

  constructor(config: EncoderConfig) {
    this.config = config;
  }

  /** Packs `items` into messages and queues them to be sent. */
  encode(items: readonly Item[]): void {
    const { packer, ready, drops, maxMessageBytes } = this.config;
    let bytes = 0;
    for (const item of items) bytes += item.bytes;
    const job = this.jobs.begin(bytes);
    packer
      .encode(items)
      .then(
        ({ envelopes, tooLarge }) => {
          for (const env of envelopes) ready.push(env);
          for (const item of tooLarge) {
            drops.dropNumbered(
              "too_large",
              [item.n],
              `record of ${item.bytes} bytes does not fit in one SQS message even compressed (maxMessageBytes ${maxMessageBytes})`,
            );
          }
        },
        (err) =>
          drops.dropNumbered(
            "invalid",
            items.map((i) => i.n),
            "records could not be encoded",
            err,
          ),
      )
      .finally(() => this.endJob(job.end));
  }

  /**
   * SQS refused a message as the sender's fault. Its records go out again in two messages, so
   * the innocent ones get through; a record SQS refuses alone is quarantined: dropped with
   * reason `rejected` and handed to onError with its serialized form (`details.record`).
   */
  repack(env: EncodedMessage, why: string): void {
    const { packer, ready, drops } = this.config;
    const job = this.jobs.begin(env.bytes);
    const stream = packer.stream?.id;
    unpackItems(env, stream)
      .then(async (items) => {
        if (items.length === 1) {
          const item = items[0] as Item;
          // Reported as it is stored: with its `seq`.
          const record =
            item.n === undefined || item.carriesSeq || stream === undefined
              ? item.json
              : withSeqJson(item.json, { stream, n: item.n });
          drops.drop("rejected", 1, `SQS refused a record alone; quarantined: ${why}`, undefined, {
            record,
          });
          return;
        }
        const half = Math.ceil(items.length / 2);
        const parts = await Promise.all([
          packer.encode(items.slice(0, half)),
          packer.encode(items.slice(half)),
        ]);
        ready.pushFront(parts.flatMap((p) => p.envelopes));
        for (const item of parts.flatMap((p) => p.tooLarge)) {
          drops.dropNumbered(
            "too_large",
            [item.n],
            `record of ${item.bytes} bytes does not fit in a message`,
          );
        }
      })
      .catch((err) =>
        drops.drop(
          "rejected",
          env.records,
          `SQS refused a message that cannot be split: ${why}`,
          err,
        ),
      )
      .finally(() => this.endJob(job.end));
  }

  private endJob(end: () => void): void {
    end();
    this.config.onJobEnded();
  }
}

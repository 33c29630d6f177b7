// The send loop's parts, built and wired to one another, and the two jobs it hands out: one
// call from a message source, and the memory and spool gauges.

import type { MiddlewareMetrics } from "../config/metrics.js";
import { MIDDLEWARE_OPTIONS } from "../config/option-table.js";
import { Encoder } from "../message/encoder.js";
import { type EncodedMessage, type Packer, totalBytes } from "../message/packer.js";
import type { Spool } from "../spool/spool.js";
import type { ByteQueue, ByteTally } from "./byte-queue.js";
import type { BatcherConfig } from "./config.js";
import type { DropReporter } from "./drop-reporter.js";
import { SendFailures } from "./failures.js";
import { BatchSender } from "./sender.js";
import { DiskFirst } from "./sources/disk-first.js";
import type { OutgoingBatch } from "./sources/source.js";
import { SpoolSource } from "./sources/spool.js";

export interface SendLoopDeps {
  drops: DropReporter;
  packer: Packer;
  maxRecordsPerMessage: number;
  /** Aborts the calls in flight at the close deadline. */
  abort: AbortSignal;
}

/** The loop's parts, wired to one another and to `pump`. */
export function buildParts(
  config: BatcherConfig,
  deps: SendLoopDeps,
  ready: ByteQueue<EncodedMessage>,
  pump: () => void,
  closing: () => { closing: boolean; draining: boolean },
) {
  const { drops, packer } = deps;
  const failures = new SendFailures({
    retry: config.retry,
    logger: config.logger,
    drops,
    onRetryDue: pump,
  });
  const encoder = new Encoder({
    packer,
    ready,
    drops,
    maxMessageBytes: config.maxMessageBytes,
    onSettled: pump,
  });
  const sender = new BatchSender({
    ...config,
    sendTimeoutMs: config.sendTimeoutMs ?? MIDDLEWARE_OPTIONS.sendTimeoutMs.default,
    drops,
    failures,
    encoder,
    abortSignal: deps.abort,
    closing,
  });
  const spool = config.spool
    ? new SpoolSource({ spool: config.spool, logger: config.logger, drops, ready })
    : undefined;
  const disk =
    spool && config.durability === "disk"
      ? new DiskFirst({
          source: spool,
          packer,
          drops,
          ready,
          lingerMs: config.lingerMs,
          onCaptured: pump,
        })
      : undefined;
  return { failures, encoder, sender, spool, disk };
}

/**
 * One call from a source: `reserve` bytes are counted in flight from now (so add() cannot fill
 * that room meanwhile), the batch's real size once it is known; `after` once it is settled.
 */
export function sendFrom(
  inflight: ByteTally,
  sender: BatchSender,
  reserve: number,
  next: Promise<OutgoingBatch | undefined>,
  after: () => void,
): void {
  const job = inflight.start(reserve);
  void next
    .then((batch) => {
      job.resize(batch ? totalBytes(batch.messages) : 0);
      return batch && sender.send(batch);
    })
    .finally(() => {
      job.end();
      after();
    });
}

export function setGauges(
  metrics: MiddlewareMetrics,
  bufferedRecords: number,
  memoryBytes: number,
  spool: Spool | undefined,
): void {
  metrics.bufferRecords.set(bufferedRecords);
  metrics.bufferBytes.set(memoryBytes);
  if (spool) {
    metrics.spoolRecords.set(spool.records);
    metrics.spoolBytes.set(spool.bytes);
  }
}

// A Batcher for tests: small messages, one call in flight, no compression, a silent logger,
// metrics of its own, errors collected. Each test overrides what it is about.
import type { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { Registry } from "prom-client";
import { Batcher } from "../../middleware/batcher/batcher.js";
import type { BatcherConfig } from "../../middleware/batcher/config.js";
import { createMiddlewareMetrics } from "../../middleware/config/metrics.js";
import type { AuditqError } from "../../shared/util/errors.js";
import { silentLogger } from "./logger.js";

/** A call's worth of bytes in one message, as SQS allows by default (256 KiB). */
export const FULL_CALL = { maxMessageBytes: 262_144, maxBatchBytes: 262_144 } as const;

/**
 * A Batcher on `sqs` with the test configuration and `overrides` on top, and the errors it
 * reported to onError (none are collected when `overrides` has its own onError).
 */
export function testBatcher(sqs: SQSClient, overrides: Partial<BatcherConfig> = {}) {
  const errors: AuditqError[] = [];
  const config: BatcherConfig = {
    sqs,
    queueUrl: "http://sqs.local/1/q",
    lingerMs: 200,
    maxMessageBytes: 4096,
    maxBatchBytes: 4096,
    maxBufferBytes: 1 << 20,
    maxInflight: 1,
    retry: { baseMs: 100, maxMs: 1000 },
    logger: silentLogger,
    metrics: createMiddlewareMetrics(new Registry()),
    onError: (err) => errors.push(err),
    compression: "identity",
    ...overrides,
  };
  return { batcher: new Batcher(config), errors, config };
}

/** An SQS client stub (pure batcher logic only) that accepts every entry and keeps its body. */
export function acceptingSqs() {
  const sent: string[] = [];
  const sqs = {
    send: async (command: SendMessageBatchCommand) => {
      const entries = command.input.Entries ?? [];
      for (const e of entries) sent.push(e.MessageBody as string);
      return { Successful: entries.map((e) => ({ Id: e.Id })) };
    },
  } as unknown as SQSClient;
  return { sqs, sent };
}

/** Resolves once `b`'s spool has opened (its spooled count is known); throws after 10 s. */
export async function spoolOpened(b: Batcher): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (b.spooledRecords === undefined) {
    if (Date.now() > deadline) throw new Error("the spool did not open within 10 s");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

// Builds the receive stage: the long-poll loops and the intake of what they receive.
// Each loop receives only while there is room among the held records and MongoDB answers; the
// intake holds and decodes what it receives.
import type { Collection } from "mongodb";
import type { BackoffPolicy } from "../../shared/util/backoff.js";
import type { Logger } from "../../shared/util/logger.js";
import { SQS_MAX_RECEIVE_MESSAGES } from "../../shared/wire/sqs-limits.js";
import type { SidecarMetrics } from "../config/metrics.js";
import type { Config } from "../config/resolve.js";
import type { Health } from "../health.js";
import type { SettleStage } from "../settle/stage.js";
import type { Wakeup } from "../wakeup.js";
import type { Deadline } from "../write/deadline.js";
import type { QuarantineGate } from "../write/quarantine-gate.js";
import type { RateLimiter } from "../write/rate-limiter.js";
import { createBatchIntake } from "./batch-intake.js";
import { heldLimits } from "./held-budget.js";
import { PollDemand } from "./poll-demand.js";
import { pollLoop } from "./poller.js";
import type { RecordBuffer } from "./record-buffer.js";
import type { SqsOps } from "./sqs-ops.js";

export interface ReceiveStageDeps {
  config: Pick<
    Config,
    | "pollers"
    | "waitTimeSeconds"
    | "visibilityTimeoutSeconds"
    | "maxBufferedRecords"
    | "maxRecordsPerMessage"
    | "signingSecrets"
    | "writeConcern"
  >;
  sqsOps: SqsOps;
  buffer: RecordBuffer;
  settle: SettleStage;
  /** The token bucket: the held records' limit follows its rate. */
  rate: RateLimiter;
  quarantined: Collection;
  /** Every quarantine write passes it first: its cap, then the write budget. */
  quarantineGate: QuarantineGate;
  deadline: Deadline;
  /** Whether MongoDB answers a ping (tells a refused quarantine entry from an outage). */
  mongoAnswers(): Promise<boolean>;
  health: Health;
  wakeup: Wakeup;
  /** Aborted at stop: ends the loops, interrupts long polls and waits for room. */
  signal: AbortSignal;
  metrics: SidecarMetrics;
  logger: Logger;
  retry: BackoffPolicy;
}

export interface ReceiveStage {
  /** Starts `config.pollers` long-poll loops; each ends when `signal` aborts. */
  startPollers(): Promise<void>[];
}

export function createReceiveStage(d: ReceiveStageDeps): ReceiveStage {
  const { config, buffer, health, wakeup, metrics, logger } = d;
  const maxHeld = heldLimits(config, () => d.rate.ratePerSecond);
  const intake = createBatchIntake({
    ...d,
    keeper: d.settle.keeper,
    settler: d.settle.settler,
    releaseDelaySeconds: d.settle.releaseDelaySeconds,
    maxHeld,
  });
  return {
    startPollers() {
      const demand = new PollDemand(() => wakeup.notify());
      return Array.from({ length: config.pollers }, (_, index) =>
        pollLoop({
          signal: d.signal,
          retry: d.retry,
          canReceive: () =>
            demand.allows(index) &&
            health.isBootstrapped &&
            health.isMongoOk &&
            buffer.heldRecords < maxHeld.records &&
            buffer.heldBytes < maxHeld.bytes,
          waitForChange: (signal) => wakeup.wait(signal),
          receive: async (signal) => {
            const messages = await d.sqsOps.receive(
              SQS_MAX_RECEIVE_MESSAGES,
              config.waitTimeSeconds,
              config.visibilityTimeoutSeconds,
              signal,
            );
            demand.received(messages.length);
            return messages;
          },
          handle: async (messages) => {
            await intake(messages);
            wakeup.notify();
          },
          onReceiveResult: (err, retryInMs) => {
            health.setSqs(err === undefined);
            if (err !== undefined) {
              metrics.errors.inc({ stage: "receive" });
              logger.warn({ err, retryInMs }, "ReceiveMessage failed");
            }
          },
        }),
      );
    },
  };
}

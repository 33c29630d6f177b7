// Builds the settle stage: the heartbeat that keeps held messages hidden, and the settler.
// The settler deletes or releases them, in calls shared across bulks, once their records are
// written.
import { type BackoffPolicy, backoffDelay } from "../../shared/util/backoff.js";
import type { Logger } from "../../shared/util/logger.js";
import type { SidecarMetrics } from "../config/metrics.js";
import type { Config } from "../config/resolve.js";
import type { Health } from "../health.js";
import type { RecordBuffer } from "../receive/record-buffer.js";
import type { SqsOps } from "../receive/sqs-ops.js";
import { SettleBatcher, settleMaxWaitMs } from "./settle-batcher.js";
import { Settler } from "./settler.js";
import { VisibilityKeeper } from "./visibility.js";

export interface SettleStageDeps {
  config: Pick<Config, "visibilityTimeoutSeconds">;
  sqsOps: SqsOps;
  buffer: RecordBuffer;
  health: Health;
  metrics: SidecarMetrics;
  logger: Logger;
  retry: BackoffPolicy;
}

export interface SettleStage {
  keeper: VisibilityKeeper;
  settler: Settler;
  /** Visibility delay of a released message: back soon, but not at once (0 when stopping). */
  releaseDelaySeconds(): number;
}

export function createSettleStage(d: SettleStageDeps): SettleStage {
  const { config, health, metrics } = d;
  const keeper = new VisibilityKeeper(d.sqsOps, config.visibilityTimeoutSeconds, d.logger);
  const batcher = new SettleBatcher({
    calls: d.sqsOps,
    logger: d.logger,
    maxWaitMs: settleMaxWaitMs(config.visibilityTimeoutSeconds),
    onDeleted: (n) => metrics.messagesDeleted.inc(n),
    onReleased: (n) => metrics.messagesReleased.inc(n),
  });
  const releaseDelaySeconds = () =>
    health.isStopping
      ? 0
      : Math.min(30, Math.ceil(backoffDelay(health.writeFailures, d.retry) / 1000));
  const settler = new Settler(d.buffer, keeper, batcher, releaseDelaySeconds);
  return { keeper, settler, releaseDelaySeconds };
}

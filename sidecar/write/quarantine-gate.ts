// Lets quarantine entries be written only within their cap (maxQuarantineRate) and the write
// budget: a flood of refused messages cannot fill MongoDB, nor write past the fleet's budget.
import type { Logger } from "../../shared/util/logger.js";
import type { SidecarMetrics } from "../config/metrics.js";
import { RateLimiter } from "./rate-limiter.js";

/** Longest delay, in seconds, before a message refused by the cap comes back. */
const CAPPED_RELEASE_MAX_SECONDS = 60;
/** The warning about capped entries is logged at most this often. */
const CAPPED_LOG_EVERY_MS = 60_000;

type Admission = "admitted" | "capped" | "aborted";

export interface QuarantineGate {
  /**
   * Whether `entries` entries may be written now. "capped": the cap is reached, their messages
   * must be released (cappedReleaseSeconds), not deleted. "aborted": `signal` aborted while it
   * waited for the write budget. "admitted": the cap and the write budget were both spent.
   */
  admit(entries: number, signal: AbortSignal): Promise<Admission>;
}

/**
 * The delay before a message refused by the cap comes back: about 2^receiveCount seconds (half
 * to whole, jittered), at most CAPPED_RELEASE_MAX_SECONDS. So a flood comes back ever slower, and
 * each return counts toward the queue's maxReceiveCount: past it SQS moves it to the DLQ.
 */
export function cappedReleaseSeconds(receiveCount: number, random = Math.random): number {
  const ceiling = Math.min(CAPPED_RELEASE_MAX_SECONDS, 2 ** Math.min(Math.max(receiveCount, 1), 6));
  return Math.max(1, Math.round(ceiling * (0.5 + random() / 2)));
}

export interface QuarantineGateDeps {
  /** Entries per second at most (maxQuarantineRate); 0: no cap. */
  maxQuarantineRate: number;
  /** The write budget's token bucket, which inserts spend from too. */
  rate: RateLimiter;
  metrics: SidecarMetrics;
  logger: Logger;
}

export function createQuarantineGate(d: QuarantineGateDeps): QuarantineGate {
  // One second of the cap, and never less than one entry: the bucket starts full.
  const cap =
    d.maxQuarantineRate > 0
      ? new RateLimiter(d.maxQuarantineRate, Math.max(1, d.maxQuarantineRate))
      : undefined;
  let capped = 0;
  let loggedAt = Number.NEGATIVE_INFINITY;
  return {
    async admit(entries, signal) {
      if (cap !== undefined && !cap.trySpend(entries)) {
        d.metrics.quarantineCapped.inc(entries);
        capped += entries;
        const now = Date.now();
        if (now - loggedAt >= CAPPED_LOG_EVERY_MS) {
          d.logger.warn(
            { entries: capped, maxQuarantineRate: d.maxQuarantineRate },
            "quarantine cap reached; releasing the messages it refused, with backoff",
          );
          loggedAt = now;
          capped = 0;
        }
        return "capped";
      }
      return (await d.rate.spend(entries, signal)) ? "admitted" : "aborted";
    },
  };
}

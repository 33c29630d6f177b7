// Capped exponential backoff with full jitter, and every retry policy auditq uses, for the retry
// loops of both sides (the sleep between tries is timers.ts's).

export interface BackoffPolicy {
  /** Delay ceiling of the first retry. */
  baseMs: number;
  /** No delay is ever longer than this. */
  maxMs: number;
}

/** Every retry policy, in one place. */
export const RETRY_POLICIES = Object.freeze({
  /**
   * Middleware, SendMessageBatch failing: a blip is retried within 100 ms; the 20 s cap keeps a
   * long outage probed often, while the spool takes what waits meanwhile.
   */
  sqsSend: Object.freeze({ baseMs: 100, maxMs: 20_000 }),
  /**
   * Sidecar, start-up, MongoDB probes and ReceiveMessage failing: nothing is lost while it waits
   * (messages stay on the queue), so it backs off further, to 30 s.
   */
  sidecarRecovery: Object.freeze({ baseMs: 200, maxMs: 30_000 }),
  /**
   * Sidecar, DeleteMessageBatch and ChangeMessageVisibilityBatch retried inside one call: a
   * few short tries, since a message left undeleted only comes back as a duplicate.
   */
  sqsBatchEntries: Object.freeze({ baseMs: 100, maxMs: 2_000 }),
} satisfies Record<string, BackoffPolicy>);

/**
 * Delay before retry number `attempt` (1-based): a uniform draw from
 * `[0, min(maxMs, baseMs * 2^(attempt-1))]` ("full jitter"), so that many
 * processes failing at once do not retry in lockstep.
 */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 30);
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  return Math.floor(random() * ceiling);
}

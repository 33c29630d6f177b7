// A deadline on each MongoDB operation, so that a hung server never holds a write for hours.
// The driver's own timeoutMS is a no-op in mongodb 7; a write held that long would hold its
// messages too.
import { AuditqError } from "../../shared/util/errors.js";
import type { Logger } from "../../shared/util/logger.js";
import { withDeadline } from "../../shared/util/timers.js";
import type { SidecarMetrics } from "../config/metrics.js";

/**
 * Periods of `mongoTimeoutMs` a patient read (the conflict check) may take while MongoDB answers
 * pings: a minute by default, where one period made every retry of a bulk fail again.
 */
export const SLOW_READ_PERIODS = 6;

/** A MongoDB operation passed its deadline; its outcome is unknown. */
export class MongoTimeoutError extends AuditqError {
  override name = "MongoTimeoutError";
  constructor(operation: string, ms: number) {
    super("ERR_AUDITQ_MONGO", `MongoDB ${operation} did not answer within ${ms} ms`, {
      retryable: true,
      details: { operation, timeoutMs: ms },
    });
  }
}

/** Runs a MongoDB operation with a deadline. */
export type Deadline = <T>(operation: string, work: Promise<T>) => Promise<T>;

export function createDeadline(ms: number, metrics: SidecarMetrics, logger: Logger): Deadline {
  return async (operation, work) => {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new MongoTimeoutError(operation, ms)), ms);
    });
    try {
      return await Promise.race([work, expired]);
    } catch (err) {
      if (err instanceof MongoTimeoutError) {
        metrics.mongoTimeouts.inc({ operation });
        // The operation may still end later; it was already reported as timed out, so its own
        // late failure is only worth a debug line (and must not be an unhandled rejection).
        work.catch((late: unknown) =>
          logger.debug({ err: late, operation }, "MongoDB operation failed after its deadline"),
        );
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  };
}

/**
 * A deadline for a read that a working server may answer slowly: FerretDB answers the conflict
 * check (a find by `_id` `$in`) by scanning the whole collection. With a plain deadline, each
 * retry of such a bulk would scan again and pass the deadline again, for ever. Here, at each
 * deadline a ping (itself within `ms`) tells slow from hung: a server that answers gets another
 * period, up to `maxPeriods` in all; one that does not fails the read, as a plain deadline would
 * (after at most two periods).
 */
export function createPatientDeadline(
  ms: number,
  maxPeriods: number,
  answers: () => Promise<boolean>,
  metrics: SidecarMetrics,
  logger: Logger,
): Deadline {
  return async (operation, work) => {
    // Rejections propagate through the awaits below; the wrapper keeps a value of `undefined`
    // apart from the deadline's "timeout".
    const finished = work.then((value) => ({ value }));
    for (let period = 1; ; period++) {
      const outcome = await withDeadline(finished, ms);
      if (outcome !== "timeout") return outcome.value;
      const alive = period < maxPeriods && (await withDeadline(answers(), ms)) === true;
      if (!alive) {
        metrics.mongoTimeouts.inc({ operation });
        finished.catch((late: unknown) =>
          logger.debug({ err: late, operation }, "MongoDB operation failed after its deadline"),
        );
        throw new MongoTimeoutError(operation, ms * period);
      }
      logger.debug({ operation, waitedMs: ms * period }, "MongoDB is slow but answers; waiting");
    }
  };
}

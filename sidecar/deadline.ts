// A deadline on each MongoDB operation: the driver's own timeoutMS is a no-op in mongodb 7, and a
// hung server must not hold a write (and its messages) for hours.
import { AuditqError } from "../shared/errors.js";
import type { Logger } from "../shared/logger.js";
import type { SidecarMetrics } from "./metrics.js";

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

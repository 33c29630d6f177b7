// Calling a function the app gave auditq (onError): whatever it throws is logged, never thrown
// into auditq's own loops or the app's request.
import type { Logger } from "./logger.js";

/** Calls `hook(arg)`; if the hook throws, logs that (naming `name`) and carries on. */
export function callHook<A>(hook: (arg: A) => void, arg: A, logger: Logger, name: string): void {
  try {
    hook(arg);
  } catch (hookError) {
    logger.error({ err: hookError }, `auditq ${name} hook threw`);
  }
}

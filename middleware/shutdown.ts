// Shutting the middleware down: `close()` run once, and the opt-in hook that runs it on a signal.
import type { Logger } from "../shared/util/logger.js";
import type { Batcher, CloseReport } from "./batcher/batcher.js";

/**
 * The batcher's close within `timeoutMs`, run on the first call, then `closed` (which gives
 * back what the instance held); later calls get its promise.
 */
export function closeOnce(
  batcher: Batcher,
  timeoutMs: number,
  closed: () => void = () => undefined,
): () => Promise<CloseReport> {
  let closing: Promise<CloseReport> | undefined;
  return () => {
    closing ??= batcher.close(timeoutMs).finally(closed);
    return closing;
  };
}

/**
 * On one of `signals`, unhooks itself, runs `close()`, then re-raises the signal for its
 * default action (exit) unless the app has a listener of its own for it. Returns the unhook.
 */
export function closeOnSignals(
  close: () => Promise<unknown>,
  logger: Logger,
  signals: readonly NodeJS.Signals[] = ["SIGTERM", "SIGINT"],
): () => void {
  const unhook = () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    unhook();
    void close()
      .catch((err) => logger.error({ err }, "auditq close() failed"))
      .finally(() => {
        // Re-raise for the default action (exit), unless the app handles the signal itself.
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      });
  };
  for (const signal of signals) process.on(signal, onSignal);
  return unhook;
}

// Waiting with a bound, for both sides: an abortable sleep, and a deadline on a promise.

/** Resolves after `ms`, or at once (without throwing) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * Resolves with `promise`'s value, or with "timeout" once `ms` have passed, whichever comes
 * first; the timer is cleared either way. `unref`: the deadline alone does not keep the process
 * alive (for a wait the caller may abandon).
 */
export async function withDeadline<T>(
  promise: Promise<T>,
  ms: number,
  options: { unref?: boolean } = {},
): Promise<T | "timeout"> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), Math.max(0, ms));
    if (options.unref) timer.unref();
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

// Wakes the loops that wait for a state change (room in the buffer, MongoDB back, a bulk to fill).

export class Wakeup {
  private waiters = new Set<() => void>();

  /** Wakes every current waiter. */
  notify(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }

  /** Resolves at the next notify(), when `signal` aborts, or after `timeoutMs` if given. */
  wait(signal: AbortSignal, timeoutMs?: number): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        if (timer !== undefined) clearTimeout(timer);
        signal.removeEventListener("abort", wake);
        this.waiters.delete(wake);
        resolve();
      };
      const timer = timeoutMs === undefined ? undefined : setTimeout(wake, Math.max(0, timeoutMs));
      this.waiters.add(wake);
      signal.addEventListener("abort", wake, { once: true });
    });
  }
}

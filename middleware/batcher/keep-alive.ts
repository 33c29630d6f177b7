// Keeps the Node process alive while a caller awaits auditq work (close(), flush()).
//
// auditq's background timers (linger, retry backoff, send deadline) are unref'd so an idle
// library never holds a process open. But once an app awaits close() on SIGTERM, those timers
// are all that is left to run: without a ref'd handle Node exits in the middle, the records are
// neither sent nor spooled, and the awaited promise never resolves.

/** A ref'd timer that long has no effect beyond holding the event loop open. */
const HOLD_INTERVAL_MS = 60 * 60 * 1000;

export class KeepAlive {
  private holders = 0;
  private timer: NodeJS.Timeout | undefined;

  /** Keeps the process alive until the promise of `fn` resolves or rejects. */
  async during<T>(fn: () => Promise<T>): Promise<T> {
    this.holders++;
    this.timer ??= setInterval(() => undefined, HOLD_INTERVAL_MS);
    try {
      return await fn();
    } finally {
      this.holders--;
      if (this.holders === 0) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    }
  }
}

// Promises that resolve once a condition holds, checked each time the state may have changed.

interface Waiter {
  done: () => boolean;
  resolve: () => void;
}

export class Waiters {
  private waiting: Waiter[] = [];

  /** Resolves once `done()` holds (at once if it does now). */
  until(done: () => boolean): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push({ done, resolve }));
  }

  /** Checks every condition; call after each change. */
  wake(): void {
    if (this.waiting.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.waiting) {
      if (w.done()) w.resolve();
      else still.push(w);
    }
    this.waiting = still;
  }
}

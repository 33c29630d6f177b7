// The linger clock: a part-filled message or call waits for more records at most `lingerMs`.
// When it fires, the records buffered at that moment must be encoded and sent, even part-filled.

export class Linger {
  private readonly ms: number;
  private readonly fire: () => void;
  private readonly buffered: () => number;
  private timer: NodeJS.Timeout | undefined;
  /** The timer fired: this many records at the head of the buffer must be encoded now. */
  private owed = 0;
  /** ...and sent once encoded, in a part-filled call if need be. */
  private due = false;

  /** `buffered()` counts the records in the buffer; `fire()` runs when the timer fires. */
  constructor(ms: number, buffered: () => number, fire: () => void) {
    this.ms = ms;
    this.buffered = buffered;
    this.fire = fire;
  }

  /** Records the timer says must be encoded now. */
  get recordsOwed(): number {
    return this.owed;
  }

  /** The timer fired and its records are all encoded: a part-filled call may go. */
  get sendDue(): boolean {
    return this.due && this.owed === 0;
  }

  /** The timer fired and what it owed is not all sent yet. */
  get pending(): boolean {
    return this.due;
  }

  /** `n` records at the head of the buffer went to be encoded. */
  encoded(n: number): void {
    this.owed = Math.max(0, this.owed - n);
  }

  /** Everything owed is encoded and no encoding job runs: the next part-filled call waits again. */
  clearDue(encodingJobs: number): void {
    if (this.due && this.owed === 0 && encodingJobs === 0) this.due = false;
  }

  arm(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.owed = this.buffered();
      this.due = true;
      this.fire();
    }, this.ms);
    // Idle lingering never holds the process open; close()/flush() keep it alive themselves.
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

// An async iterator that can look at its next item without taking it, for merge-joins.

export class Peekable<T> {
  private readonly iterator: AsyncIterator<T>;
  private head: T | undefined;
  private has = false;
  private done = false;

  constructor(source: AsyncIterable<T>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  /** The next item, left in place; undefined at the end. */
  async peek(): Promise<T | undefined> {
    if (!this.has && !this.done) {
      const step = await this.iterator.next();
      if (step.done) this.done = true;
      else {
        this.head = step.value;
        this.has = true;
      }
    }
    return this.has ? this.head : undefined;
  }

  /** Takes the item `peek` returned. */
  take(): void {
    this.has = false;
    this.head = undefined;
  }
}

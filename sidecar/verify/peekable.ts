// An async iterator that can look at its next item without taking it, for merge-joins. It reads
// items one by one, or in chunks (arrays) that it hands out one item at a time: while a chunk
// lasts, the next item is known without waiting (`ready`), and a merge-join spends no await,
// hence no turn of the microtask queue, on it.

export class Peekable<T> {
  private readonly iterator: AsyncIterator<T | readonly T[]>;
  private readonly chunked: boolean;
  private chunk: readonly T[] = [];
  private at = 0;
  private done = false;

  private constructor(source: AsyncIterable<T | readonly T[]>, chunked: boolean) {
    this.iterator = source[Symbol.asyncIterator]();
    this.chunked = chunked;
  }

  /** Over `source`'s items. */
  static of<T>(source: AsyncIterable<T>): Peekable<T> {
    return new Peekable<T>(source, false);
  }

  /** Over the items of `source`'s chunks, in order. */
  static ofChunks<T>(source: AsyncIterable<readonly T[]>): Peekable<T> {
    return new Peekable<T>(source, true);
  }

  /** Whether `now()` knows the next item (or the end) without waiting. */
  get ready(): boolean {
    return this.at < this.chunk.length || this.done;
  }

  /** The next item, left in place, when `ready`; undefined at the end. */
  now(): T | undefined {
    return this.chunk[this.at];
  }

  /** The next item, left in place; undefined at the end. */
  async peek(): Promise<T | undefined> {
    while (!this.ready) {
      const step = await this.iterator.next();
      if (step.done) this.done = true;
      else {
        this.chunk = this.chunked ? (step.value as readonly T[]) : [step.value as T];
        this.at = 0;
      }
    }
    return this.chunk[this.at];
  }

  /** Takes the item `peek` or `now` returned. */
  take(): void {
    this.at++;
  }
}

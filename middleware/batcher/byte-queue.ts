// The batcher's memory accounting: a FIFO that keeps its item count and byte total in step, and
// a tally of work in progress (encoding, sending, spilling) with the bytes it holds.

/** A FIFO of sized items; the only place their count and byte total change together. */
export class ByteQueue<T extends { readonly bytes: number }> {
  private items: T[] = [];
  private total = 0;

  get length(): number {
    return this.items.length;
  }

  get bytes(): number {
    return this.total;
  }

  /** The items, oldest first, for sizing decisions; not to be changed. */
  get view(): readonly T[] {
    return this.items;
  }

  push(item: T): void {
    this.items.push(item);
    this.total += item.bytes;
  }

  /** Puts items back at the head (retries, re-packed messages), ahead of newer ones. */
  pushFront(items: readonly T[]): void {
    if (items.length === 0) return;
    this.items = items.concat(this.items);
    for (const item of items) this.total += item.bytes;
  }

  /** Removes and returns the `n` oldest items. */
  takeFront(n: number): T[] {
    const taken = this.items.splice(0, n);
    for (const item of taken) this.total -= item.bytes;
    return taken;
  }

  takeAll(): T[] {
    const taken = this.items;
    this.items = [];
    this.total = 0;
    return taken;
  }
}

/** Jobs in progress and the bytes they hold in memory. */
export class ByteTally {
  private jobs = 0;
  private total = 0;

  get count(): number {
    return this.jobs;
  }

  get bytes(): number {
    return this.total;
  }

  /** Begins one job holding `bytes`; the returned handle resizes and ends exactly that job. */
  begin(bytes: number): TallyJob {
    this.jobs++;
    this.total += bytes;
    let current = bytes;
    let ended = false;
    return {
      resize: (next: number) => {
        if (ended) return;
        this.total += next - current;
        current = next;
      },
      end: () => {
        if (ended) return;
        ended = true;
        this.jobs--;
        this.total -= current;
      },
    };
  }
}

export interface TallyJob {
  /** The job now holds `bytes` (a reservation replaced by the real size). */
  resize(bytes: number): void;
  end(): void;
}

// The entries of digests read in order of their first key, merged into one stream sorted by key:
// a heap of one cursor per digest whose keys overlap the next one's, so memory holds only
// overlapping digests (in practice one), however many there are. Entries come out in chunks,
// as many as are known to come before anything the next digest holds (in practice a digest's
// whole run): one step of the generator per chunk, not per entry.

/** One digest's entries, already sorted by `compare`. */
export interface EntryRun<E> {
  entries: readonly E[];
}

/**
 * Yields every entry of `runs` in `compare` order, in chunks. `runs` must come sorted by their
 * first entry (the digests' `nMin` or `idMin` index); entries within a run sorted too.
 */
export async function* mergeRuns<E>(
  runs: AsyncIterable<EntryRun<E>>,
  compare: (a: E, b: E) => number,
): AsyncGenerator<readonly E[]> {
  const heap: { run: readonly E[]; i: number }[] = [];
  const head = (c: { run: readonly E[]; i: number }) => c.run[c.i] as E;
  const less = (a: number, b: number) =>
    compare(head(heap[a] as never), head(heap[b] as never)) < 0;
  const swap = (a: number, b: number) => {
    const t = heap[a] as (typeof heap)[number];
    heap[a] = heap[b] as (typeof heap)[number];
    heap[b] = t;
  };
  const up = (i: number) => {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(i, p)) return;
      swap(i, p);
      i = p;
    }
  };
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(l, m)) m = l;
      if (r < heap.length && less(r, m)) m = r;
      if (m === i) return;
      swap(i, m);
      i = m;
    }
  };
  const iterator = runs[Symbol.asyncIterator]();
  let next: readonly E[] | undefined;
  let done = false;
  const pull = async () => {
    while (!done && next === undefined) {
      const step = await iterator.next();
      if (step.done) done = true;
      else if (step.value.entries.length > 0) next = step.value.entries;
    }
  };
  await pull();
  for (;;) {
    // Every run starting at or before the smallest pending entry joins the heap first.
    while (
      next !== undefined &&
      (heap.length === 0 || compare(next[0] as E, head(heap[0] as never)) <= 0)
    ) {
      heap.push({ run: next, i: 0 });
      up(heap.length - 1);
      next = undefined;
      await pull();
    }
    if (heap.length === 0) return;
    const only = heap.length === 1 ? (heap[0] as (typeof heap)[number]) : undefined;
    if (only && (next === undefined || compare(next[0] as E, only.run.at(-1) as E) > 0)) {
      // The usual case: one run, wholly before the next one.
      heap.pop();
      yield only.i === 0 ? only.run : only.run.slice(only.i);
      continue;
    }
    // Every entry before the next run's first is final: take them all.
    const chunk: E[] = [];
    for (let top = heap[0]; top !== undefined; top = heap[0]) {
      const entry = head(top);
      if (next !== undefined && compare(next[0] as E, entry) <= 0) break;
      chunk.push(entry);
      top.i++;
      if (top.i < top.run.length) down(0);
      else {
        const last = heap.pop() as (typeof heap)[number];
        if (heap.length > 0) {
          heap[0] = last;
          down(0);
        }
      }
    }
    yield chunk;
  }
}

// Remembers which ids were reported lately, so that a complaint about one lease is logged once
// per interval however often it is read, in memory bounded by the ids seen within the interval.

/** Ids remembered at most: past it the oldest are forgotten (and may be reported again). */
const MAX_REMEMBERED = 10_000;

export class OncePerId {
  private readonly last = new Map<string, number>();

  constructor(private readonly intervalMs: number) {}

  /** True when `id` was not reported in the last interval before `now` (ms); then remembers it. */
  due(id: string, now: number): boolean {
    const at = this.last.get(id);
    if (at !== undefined && now - at < this.intervalMs) return false;
    this.last.delete(id); // re-inserted last: the map stays in order of report
    this.last.set(id, now);
    for (const [old, when] of this.last) {
      if (this.last.size <= MAX_REMEMBERED && now - when < this.intervalMs) break;
      this.last.delete(old);
    }
    return true;
  }
}

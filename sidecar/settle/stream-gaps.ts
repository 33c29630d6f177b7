// The online gap gauge: for the streams this sidecar saw lately, the records numbered at least
// a settle time ago that MongoDB does not hold and no loss statement explains (docs/proof.md).
import type { Collection, Document } from "mongodb";
import type { Logger } from "../../shared/util/logger.js";
import type { LossRange } from "../../shared/wire/stream.js";

/** Streams followed at most: the least recently seen is forgotten past it. */
const MAX_FOLLOWED_STREAMS = 1000;
/** Streams with their own label value, the largest gaps; the rest add up under `other`. */
const GAP_LABELLED_STREAMS = 10;
/** Label value of the streams beyond the largest GAP_LABELLED_STREAMS. */
const OTHER_STREAMS = "other";

/** Where the gaps go: `auditq_sidecar_stream_gap_records{stream}` (reset at every round). */
export interface GapGauge {
  reset(): void;
  set(labels: { stream: string }, value: number): void;
}

interface Followed {
  /** The high-water mark read at the previous round: its records are due by this round. */
  due: number;
}

/**
 * Every `settleMs`, for each followed stream: the gap is counted up to the high-water mark read
 * one round before (so every record counted was sent at least `settleMs` ago), from
 * `<collection>_streams` and a count of stored records (index `seq.stream`, `seq.n`). Read from
 * MongoDB, not from what this sidecar wrote: in a fleet, another sidecar may have stored the
 * rest, and every sidecar that follows a stream reports the same gap (alert on `max by (stream)`).
 */
export class StreamGaps {
  private readonly followed = new Map<string, Followed>();
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> = Promise.resolve();

  constructor(
    private readonly records: Collection<Document>,
    private readonly streams: Collection<Document>,
    private readonly gauge: GapGauge,
    private readonly settleMs: number,
    private readonly logger: Logger,
  ) {
    // The series exists from the first scrape: no gap yet.
    gauge.set({ stream: OTHER_STREAMS }, 0);
  }

  /** A message of `stream` was stored: follow it (most recently seen last). */
  seen(stream: string): void {
    const f = this.followed.get(stream) ?? { due: 0 };
    this.followed.delete(stream);
    this.followed.set(stream, f);
    if (this.followed.size > MAX_FOLLOWED_STREAMS) {
      const oldest = this.followed.keys().next().value as string;
      this.followed.delete(oldest);
    }
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.round = this.round.then(() => this.measure());
    }, this.settleMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.round;
  }

  /** One round: the gaps of every followed stream, then the gauge. */
  async measure(): Promise<void> {
    const gaps: { stream: string; gap: number }[] = [];
    for (const [stream, f] of [...this.followed]) {
      try {
        const doc = await this.streams.findOne({ _id: stream } as Document);
        if (!doc) continue;
        if (f.due > 0) gaps.push({ stream, gap: await this.gapUpTo(stream, f.due, doc.lost) });
        f.due = typeof doc.hwm === "number" ? doc.hwm : 0;
      } catch (err) {
        // The gauge keeps last round's values for this stream's share; the next round retries.
        this.logger.warn({ err, stream }, "cannot measure a stream's gap");
        return;
      }
    }
    gaps.sort((a, b) => b.gap - a.gap);
    this.gauge.reset();
    let other = 0;
    for (const [i, g] of gaps.entries()) {
      if (i < GAP_LABELLED_STREAMS && g.gap > 0) this.gauge.set({ stream: g.stream }, g.gap);
      else other += g.gap;
    }
    this.gauge.set({ stream: OTHER_STREAMS }, other);
  }

  /** Records 1..`upTo` of `stream` neither stored nor stated lost. */
  private async gapUpTo(stream: string, upTo: number, lost: unknown): Promise<number> {
    const count = (n: Document) =>
      this.records.countDocuments({ "seq.stream": stream, "seq.n": n });
    let missing = upTo - (await count({ $gte: 1, $lte: upTo }));
    for (const r of union(Array.isArray(lost) ? (lost as LossRange[]) : [])) {
      const to = Math.min(r.to, upTo);
      if (r.from > to) continue;
      // Stated lost and indeed not stored: explained.
      missing -= to - r.from + 1 - (await count({ $gte: r.from, $lte: to }));
    }
    return Math.max(0, missing);
  }
}

/** Ranges stated (perhaps overlapping, under different reasons) as disjoint ranges. */
function union(ranges: readonly LossRange[]): { from: number; to: number }[] {
  const sorted = ranges.map((r) => ({ from: r.from, to: r.to })).sort((a, b) => a.from - b.from);
  const out: { from: number; to: number }[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.from <= last.to + 1) last.to = Math.max(last.to, r.to);
    else out.push(r);
  }
  return out;
}

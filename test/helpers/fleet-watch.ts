// For tests of a fleet of sidecar processes: a watch on their combined write count over time
// (each one's /metrics, sampled every 200 ms) and gauges.
import { metricValue } from "./metric-value.js";
import { ops } from "./sidecar-cli.js";

export interface Sample {
  t: number;
  /** Records written or found already written (both are writes MongoDB had to take), all members. */
  total: number;
  /** Each member's count, by port. */
  members: Record<number, number>;
}

/** Records MongoDB took from one sidecar so far, from its /metrics text. */
function recordsTaken(metrics: string): number {
  return (
    metricValue(metrics, "auditq_sidecar_records_written_total") +
    metricValue(metrics, "auditq_sidecar_records_duplicate_total")
  );
}

export class FleetWatch {
  readonly samples: Sample[] = [];
  private readonly ports = new Set<number>();
  /** The last count each member reported: a killed member's count stays what it was. */
  private readonly last = new Map<number, number>();
  private readonly gauges = new Map<number, string>();
  private running: Promise<void> | undefined;
  private stopped = false;

  add(port: number): void {
    this.ports.add(port);
  }

  /** Stops reading a member (killed): its last count stays in the total. */
  remove(port: number): void {
    this.ports.delete(port);
  }

  start(): void {
    this.running = (async () => {
      while (!this.stopped) {
        const due = Date.now() + 200;
        await this.sample();
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  /** The latest /metrics text of a member (empty until it answered once). */
  metrics(port: number): string {
    return this.gauges.get(port) ?? "";
  }

  /**
   * One round of /metrics reads. A round in which a live member did not answer is not a sample:
   * its count would stay behind and then jump, showing a burst that never happened.
   */
  private async sample(): Promise<void> {
    const answered = await Promise.all(
      [...this.ports].map(async (port) => {
        const res = await ops(port, "/metrics");
        if (res.status !== 200) return false;
        this.gauges.set(port, res.body);
        this.last.set(port, recordsTaken(res.body));
        return true;
      }),
    );
    if (answered.includes(false)) return;
    const total = [...this.last.values()].reduce((a, b) => a + b, 0);
    this.samples.push({ t: Date.now(), total, members: Object.fromEntries(this.last) });
  }

  /** Records per second between the samples nearest to `from` and `to`. */
  rate(from: number, to: number): number {
    const a = this.at(from);
    const b = this.at(to);
    return b.t === a.t ? 0 : ((b.total - a.total) * 1000) / (b.t - a.t);
  }

  /** The highest rate over any window of at least `windowMs` between `from` and now. */
  peakRate(windowMs: number, from = 0): number {
    let peak = 0;
    const s = this.samples.filter((x) => x.t >= from);
    let j = 0;
    for (const [i, a] of s.entries()) {
      j = Math.max(j, i);
      while (j < s.length && (s[j] as Sample).t - a.t < windowMs) j++;
      if (j >= s.length) break;
      const b = s[j] as Sample;
      peak = Math.max(peak, ((b.total - a.total) * 1000) / (b.t - a.t));
    }
    return peak;
  }

  private at(t: number): Sample {
    let best = this.samples[0] as Sample;
    for (const s of this.samples) if (Math.abs(s.t - t) < Math.abs(best.t - t)) best = s;
    return best;
  }
}

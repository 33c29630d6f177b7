// The demo's picture of peak shaving: the three series computed from the metrics it sampled, the
// demo's events on the same time axis, and the compact terminal chart (one row per series, each
// on its own scale). The HTML report is drawn by report.ts from the same ChartData.

/** Counters and gauges read from the app's and the sidecar's /metrics at one instant. */
export interface MetricsSample {
  /** Seconds since the demo started sampling. */
  t: number;
  /** auditq_records_captured_total: requests audited by the app (one record each). */
  captured: number;
  /** auditq_records_sent_total: records the app has handed to SQS. */
  sent: number;
  /** auditq_sidecar_records_written_total: records inserted (a redelivered duplicate is not). */
  written: number;
  /** auditq_sidecar_queue_messages, all states: SQS messages not yet deleted. */
  queueMessages: number;
}

/** Something the demo did (or saw) at a moment, in seconds on the samples' clock. */
export interface DemoEvent {
  t: number;
  label: string;
}

/** What the charts draw: the samples up to `end`, one value per sample, and the events. */
export interface ChartData {
  t: number[];
  /** Requests per second reaching the app. */
  incoming: number[];
  /** Records in SQS not yet in MongoDB (sent − written). */
  backlog: number[];
  /** Records per second written into MongoDB. */
  writes: number[];
  /** The sidecar's `maxWriteRate`, records per second. */
  cap: number;
  /** The demo's events and "backlog drained", in time order. */
  events: DemoEvent[];
  /**
   * Where the time axis ends: shortly after the last event, when nothing happens after it;
   * otherwise at the last sample.
   */
  end: number;
  /** The last sample's time, when sampling went on past `end` (the demo waiting); else undefined. */
  sampledUntil: number | undefined;
}

/** Rates are taken over this trailing window, as a Prometheus `rate()` over 1 s would. */
export const RATE_WINDOW_S = 1;
/** The time axis runs this far past the last event, so that its marker is not on the edge. */
const END_MARGIN_S = 2;
export const DRAINED_LABEL = "backlog drained";

function rate(samples: MetricsSample[], i: number, pick: (s: MetricsSample) => number): number {
  const now = samples[i] as MetricsSample;
  let j = i;
  while (j > 0 && now.t - (samples[j - 1] as MetricsSample).t <= RATE_WINDOW_S + 1e-9) j--;
  const then = samples[j] as MetricsSample;
  const dt = now.t - then.t;
  return dt > 0 ? (pick(now) - pick(then)) / dt : 0;
}

/**
 * Seconds from the start until the backlog, after its peak, first fell to zero; undefined if it
 * never did. (The demo keeps sampling after that until the queue-depth gauge agrees, so the
 * last sample is not when the queue drained.)
 */
export function drainedAt(data: Pick<ChartData, "t" | "backlog">): number | undefined {
  let peak = 0;
  for (let i = 1; i < data.backlog.length; i++) {
    if ((data.backlog[i] as number) > (data.backlog[peak] as number)) peak = i;
  }
  if ((data.backlog[peak] ?? 0) === 0) return undefined;
  for (let i = peak + 1; i < data.backlog.length; i++) {
    if (data.backlog[i] === 0) return data.t[i];
  }
  return undefined;
}

/**
 * The series, the events (with "backlog drained" added), and the samples cut shortly after the
 * last event when nothing happens after it (the demo waiting for the queue-depth gauge).
 */
export function chartData(
  samples: MetricsSample[],
  cap: number,
  events: DemoEvent[] = [],
): ChartData {
  const full = {
    t: samples.map((s) => s.t),
    incoming: samples.map((_, i) => rate(samples, i, (s) => s.captured)),
    backlog: samples.map((s) => Math.max(0, s.sent - s.written)),
    writes: samples.map((_, i) => rate(samples, i, (s) => s.written)),
  };
  const drained = drainedAt(full);
  const all = [...events, ...(drained === undefined ? [] : [{ t: drained, label: DRAINED_LABEL }])]
    .filter((e) => Number.isFinite(e.t))
    .sort((a, b) => a.t - b.t);
  const last = full.t.at(-1) ?? 0;
  let end = all.length === 0 ? last : Math.min(last, (all.at(-1) as DemoEvent).t + END_MARGIN_S);
  // Cut only a quiet tail: no request, no write and no backlog after `end`; else show it all.
  const busy = full.t.some(
    (t, i) =>
      t > end + 1e-9 &&
      ((full.incoming[i] as number) >= 0.5 ||
        (full.writes[i] as number) >= 0.5 ||
        (full.backlog[i] as number) > 0),
  );
  if (busy) end = last;
  const keep = full.t.filter((t) => t <= end + 1e-9).length;
  return {
    t: full.t.slice(0, keep),
    incoming: full.incoming.slice(0, keep),
    backlog: full.backlog.slice(0, keep),
    writes: full.writes.slice(0, keep),
    cap,
    events: all.filter((e) => e.t <= end),
    end,
    sampledUntil: last > end + 1e-9 ? last : undefined,
  };
}

/** A number as the charts print it: rounded, with thousands separators. */
export const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

const BARS = " ▁▂▃▄▅▆▇█";

/** Column of time `t` in a row `width` columns wide spanning 0..end. */
const column = (t: number, end: number, width: number) =>
  Math.min(width - 1, Math.max(0, Math.floor((t / Math.max(end, 1e-9)) * width)));

/** One row of block characters over 0..end, each column the maximum of its samples. */
function sparkline(t: number[], values: number[], top: number, end: number, width: number): string {
  const peaks = new Array<number>(width).fill(Number.NaN);
  values.forEach((v, i) => {
    const c = column(t[i] as number, end, width);
    peaks[c] = Number.isNaN(peaks[c] as number) ? v : Math.max(peaks[c] as number, v);
  });
  let last = 0;
  return peaks
    .map((p) => {
      // A column without a sample repeats its left neighbour (a gap in sampling, not a zero).
      const v = Number.isNaN(p) ? last : p;
      last = v;
      const level = top > 0 ? Math.round((v / top) * (BARS.length - 1)) : 0;
      // Anything above zero shows at least the lowest bar: small is not nothing.
      return BARS[Math.min(BARS.length - 1, Math.max(v > 0 ? 1 : 0, level))];
    })
    .join("");
}

/**
 * The compact terminal chart: one row per series, each on its own scale from 0 to the number
 * printed after it, a row of numbered event markers, and the time axis from 0 to `end`.
 */
export function terminalChart(data: ChartData, width = 60): string {
  const peak = (xs: number[]) => Math.max(0, ...xs);
  const writesTop = Math.max(data.cap, peak(data.writes));
  const row = (label: string, values: number[], top: number, scale: string) =>
    `  ${label.padEnd(18)}${sparkline(data.t, values, top, data.end, width)}  ${scale}`;
  const marks = new Array<string>(width).fill(" ");
  data.events.forEach((e, i) => {
    let c = column(e.t, data.end, width);
    while (c < width - 1 && marks[c] !== " ") c++;
    marks[c] = String(i + 1);
  });
  const end = `${data.end.toFixed(0)} s`;
  const lines = [
    row("incoming req/s", data.incoming, peak(data.incoming), `0–${fmt(peak(data.incoming))}`),
    row("MongoDB writes/s", data.writes, writesTop, `0–${fmt(writesTop)} (cap ${fmt(data.cap)})`),
    row("queue backlog", data.backlog, peak(data.backlog), `0–${fmt(peak(data.backlog))} records`),
    `  ${"events".padEnd(18)}${marks.join("").trimEnd()}`,
    `  ${" ".repeat(18)}0 s${" ".repeat(Math.max(1, width - 3 - end.length))}${end}`,
    ...data.events.map((e, i) => `  ${" ".repeat(18)}${i + 1} ${e.label} (${e.t.toFixed(1)} s)`),
    "  (each row on its own scale, from 0 to the number after it)",
  ];
  if (data.sampledUntil !== undefined) {
    lines.push(
      `  (sampling went on to ${data.sampledUntil.toFixed(0)} s, until SQS reported the queue empty; nothing changed after ${end})`,
    );
  }
  return lines.join("\n");
}

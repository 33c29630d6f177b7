// The demo's picture of peak shaving: the three series computed from the metrics it sampled,
// drawn as a compact terminal chart and as a self-contained HTML page with one SVG chart.

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

/** What the chart draws, one value per sample. */
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
}

/** Rates are taken over this trailing window, as a Prometheus `rate()` over 1 s would. */
export const RATE_WINDOW_S = 1;

function rate(samples: MetricsSample[], i: number, pick: (s: MetricsSample) => number): number {
  const now = samples[i] as MetricsSample;
  let j = i;
  while (j > 0 && now.t - (samples[j - 1] as MetricsSample).t <= RATE_WINDOW_S + 1e-9) j--;
  const then = samples[j] as MetricsSample;
  const dt = now.t - then.t;
  return dt > 0 ? (pick(now) - pick(then)) / dt : 0;
}

export function chartData(samples: MetricsSample[], cap: number): ChartData {
  return {
    t: samples.map((s) => s.t),
    incoming: samples.map((_, i) => rate(samples, i, (s) => s.captured)),
    backlog: samples.map((s) => Math.max(0, s.sent - s.written)),
    writes: samples.map((_, i) => rate(samples, i, (s) => s.written)),
    cap,
  };
}

/**
 * Seconds from the start until the backlog, after its peak, first fell to zero; undefined if it
 * never did. (The demo keeps sampling after that until the queue-depth gauge agrees, so the
 * last sample is not when the queue drained.)
 */
export function drainedAt(data: ChartData): number | undefined {
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

const BARS = " ▁▂▃▄▅▆▇█";

/** One row of block characters, `width` columns, each the maximum of its samples. */
function sparkline(values: number[], top: number, width: number): string {
  const columns = Math.min(width, values.length);
  let out = "";
  for (let c = 0; c < columns; c++) {
    const from = Math.floor((c * values.length) / columns);
    const to = Math.max(from + 1, Math.floor(((c + 1) * values.length) / columns));
    const peak = Math.max(...values.slice(from, to));
    const level = top > 0 ? Math.round((peak / top) * (BARS.length - 1)) : 0;
    out += BARS[Math.min(BARS.length - 1, Math.max(0, level))];
  }
  return out;
}

/** The compact terminal chart: the two rates on one scale, the backlog on its own. */
export function terminalChart(data: ChartData, width = 60): string {
  const rateTop = Math.max(data.cap, ...data.incoming, ...data.writes);
  const backlogTop = Math.max(1, ...data.backlog);
  const seconds = data.t.at(-1) ?? 0;
  const peak = (xs: number[]) => Math.round(Math.max(0, ...xs)).toLocaleString("en-US");
  return [
    `  incoming req/s    ${sparkline(data.incoming, rateTop, width)}  peak ${peak(data.incoming)}`,
    `  MongoDB writes/s  ${sparkline(data.writes, rateTop, width)}  peak ${peak(data.writes)} (cap ${data.cap})`,
    `  queue backlog     ${sparkline(data.backlog, backlogTop, width)}  peak ${peak(data.backlog)} records`,
    `  ${" ".repeat(18)}0 s${" ".repeat(Math.max(1, Math.min(width, data.t.length) - 3 - String(seconds.toFixed(0)).length - 2))}${seconds.toFixed(0)} s`,
    "  (the two rates share one scale; the backlog has its own)",
  ].join("\n");
}

const W = 900;
const H = 380;
const M = { left: 64, right: 80, top: 48, bottom: 44 };

function niceTop(max: number): number {
  if (max <= 0) return 1;
  const step = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * step >= max) return m * step;
  return 10 * step;
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] ?? c,
  );

/** A self-contained HTML page (no external files, nothing executable) with the chart and its data. */
export function htmlReport(data: ChartData, summary: string[]): string {
  const x1 = W - M.right;
  const y1 = H - M.bottom;
  const tMax = Math.max(1, data.t.at(-1) ?? 1);
  const rateTop = niceTop(Math.max(data.cap, ...data.incoming, ...data.writes));
  const backlogTop = niceTop(Math.max(1, ...data.backlog));
  const x = (t: number) => M.left + (t / tMax) * (x1 - M.left);
  const yRate = (v: number) => y1 - (v / rateTop) * (y1 - M.top);
  const yBacklog = (v: number) => y1 - (v / backlogTop) * (y1 - M.top);
  const line = (name: string, values: number[], y: (v: number) => number) =>
    `<polyline data-series="${name}" class="${name}" fill="none" points="${values
      .map((v, i) => `${x(data.t[i] as number).toFixed(1)},${y(v).toFixed(1)}`)
      .join(" ")}"/>`;
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const grid = ticks
    .map((f) => {
      const y = y1 - f * (y1 - M.top);
      return `<line class="grid" x1="${M.left}" x2="${x1}" y1="${y}" y2="${y}"/><text class="axis" x="${M.left - 6}" y="${y + 4}" text-anchor="end">${fmt(f * rateTop)}</text><text class="axis backlog-axis" x="${x1 + 6}" y="${y + 4}">${fmt(f * backlogTop)}</text>`;
    })
    .join("");
  const step = tMax > 30 ? 10 : 5;
  const timeTicks: string[] = [];
  for (let t = 0; t <= tMax; t += step) {
    timeTicks.push(
      `<text class="axis" x="${x(t)}" y="${y1 + 18}" text-anchor="middle">${t} s</text>`,
    );
  }
  const capY = yRate(data.cap);
  const legend = [
    ["incoming", "incoming requests/s", 0],
    ["writes", "MongoDB writes/s", 170],
    ["cap", `write cap (${fmt(data.cap)}/s)`, 320],
    ["backlog", "queue backlog (records, right axis)", 470],
  ]
    .map(
      ([cls, label, at]) =>
        `<g transform="translate(${M.left + Number(at)},20)"><line class="${cls}" x1="0" x2="22" y1="0" y2="0"/><text class="legend" x="28" y="4">${escapeHtml(String(label))}</text></g>`,
    )
    .join("");
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" id="chart" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">
<rect width="${W}" height="${H}" fill="#fff"/>${grid}${timeTicks.join("")}
<text class="axis" x="16" y="${(M.top + y1) / 2}" transform="rotate(-90 16 ${(M.top + y1) / 2})" text-anchor="middle">records/s</text>
<text class="axis backlog-axis" x="${W - 14}" y="${(M.top + y1) / 2}" transform="rotate(90 ${W - 14} ${(M.top + y1) / 2})" text-anchor="middle">records queued</text>
${line("backlog", data.backlog, yBacklog)}
<line data-series="cap" class="cap" x1="${M.left}" x2="${x1}" y1="${capY}" y2="${capY}"/>
${line("incoming", data.incoming, yRate)}
${line("writes", data.writes, yRate)}
${legend}
</svg>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>auditq demo: a burst, shaved</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 16px; color: #222; }
.grid { stroke: #e5e5e5; } .axis { font-size: 11px; fill: #555; } .legend { font-size: 12px; fill: #222; }
.backlog-axis { fill: #b36b00; }
.incoming { stroke: #1f6fd1; stroke-width: 2; } .writes { stroke: #1a9e3f; stroke-width: 2.5; }
.backlog { stroke: #e08a00; stroke-width: 2; fill: none; } .cap { stroke: #c0392b; stroke-width: 1.5; stroke-dasharray: 6 4; }
</style></head>
<body>
<h1>auditq demo: a burst, shaved</h1>
${svg}
<ul>${summary.map((s) => `<li>${escapeHtml(s)}</li>`).join("")}</ul>
<script type="application/json" id="demo-data">${JSON.stringify(data)}</script>
</body></html>
`;
}

// The demo's chart: its data (the time axis ends with the demo's events, not with the waiting
// after them), the terminal rows (each on its own scale), and the HTML report rendered by a real
// browser (Debian's headless Chromium): one panel per series on one time axis, each line on its
// own scale, the events marked in every panel, the write line never above the cap line.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import {
  chartData,
  drainedAt,
  type MetricsSample,
  terminalChart,
} from "../../scripts/demo/chart.js";
import { htmlReport } from "../../scripts/demo/report.js";

const CHROMIUM = process.env.AUDITQ_CHROMIUM ?? "/usr/bin/chromium";
const available = existsSync(CHROMIUM);
if (!available) {
  console.warn(
    `SKIPPED demo report test: no Chromium at ${CHROMIUM} (install Debian's "chromium"; .ci/run does, or set AUDITQ_CHROMIUM)`,
  );
}

// Runs in the page after the chart is laid out: where each panel, line and event marker was
// drawn, in screen pixels.
const MEASURE = `<script>
const svg = document.getElementById("chart");
const toScreen = (el, x, y) => new DOMPoint(x, y).matrixTransform(el.getScreenCTM());
const out = { panels: [] };
for (const g of svg.querySelectorAll("g.panel")) {
  const lines = g.querySelectorAll("polyline[data-series]");
  const style = (el) => getComputedStyle(el);
  const plot = g.querySelector("rect.plot").getBoundingClientRect().toJSON();
  const cap = g.querySelector("line[data-series=cap]");
  out.panels.push({
    panel: g.dataset.panel, yMax: Number(g.dataset.yMax), xMax: Number(g.dataset.xMax), plot,
    series: Array.from(lines, (el) => ({
      name: el.dataset.series,
      points: Array.from(el.points, (p) => { const q = toScreen(el, p.x, p.y); return [q.x, q.y]; }),
      stroke: style(el).stroke, strokeWidth: parseFloat(style(el).strokeWidth),
    })),
    events: Array.from(g.querySelectorAll("line[data-event]"), (el) => toScreen(el, el.x1.baseVal.value, 0).x),
    capY: cap ? toScreen(cap, 0, cap.y1.baseVal.value).y : undefined,
  });
}
const pre = document.createElement("pre");
pre.id = "measured";
pre.textContent = JSON.stringify(out);
document.body.append(pre);
</script>`;

interface Box {
  left: number;
  right: number;
  top: number;
  bottom: number;
}
interface MeasuredPanel {
  panel: string;
  yMax: number;
  xMax: number;
  plot: Box;
  series: { name: string; points: [number, number][]; stroke: string; strokeWidth: number }[];
  events: number[];
  capY?: number;
}
interface Measured {
  panels: MeasuredPanel[];
}

const dir = mkdtempSync(join(tmpdir(), "auditq-report-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function render(html: string, name: string): Promise<Measured> {
  const file = join(dir, `${name}.html`);
  writeFileSync(file, html.replace("</body>", `${MEASURE}</body>`));
  const { stdout } = await promisify(execFile)(
    CHROMIUM,
    [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--user-data-dir=${mkdtempSync(join(dir, "profile-"))}`,
      "--window-size=1000,700",
      "--dump-dom",
      `file://${file}`,
    ],
    { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
  );
  const match = /<pre id="measured">(.*?)<\/pre>/s.exec(stdout);
  if (match === null)
    throw new Error(`no measurements in Chromium's DOM:\n${stdout.slice(0, 2000)}`);
  const text = (match[1] as string)
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
  return JSON.parse(text) as Measured;
}

/**
 * A burst like the demo's: 1 s quiet, 3 s at `burstRate`, writes at `writeRate` until done, then
 * sampling on to 60 s with nothing happening (the demo waiting for the queue-depth gauge).
 */
function burstSamples(burstRate: number, writeRate: number): MetricsSample[] {
  const samples: MetricsSample[] = [];
  const total = burstRate * 3;
  for (let t = 0; t <= 60; t += 0.25) {
    const captured = Math.min(total, Math.max(0, t - 1) * burstRate);
    const written = Math.min(captured, Math.max(0, t - 1.25) * writeRate);
    samples.push({ t, captured, sent: captured, written, queueMessages: 0 });
  }
  return samples;
}

const EVENTS = [
  { t: 1, label: "burst starts" },
  { t: 4, label: "burst ends" },
  { t: 4.5, label: "5 messages re-sent" },
];

describe("chart data", () => {
  it("says when the backlog drained, not when sampling stopped", () => {
    // 3,000 records written at 100/s from t = 1.25 s: drained at 31.25 s; samples go on to 60 s.
    const data = chartData(burstSamples(1000, 100), 100);
    expect(drainedAt(data)).toBe(31.25);
    expect(drainedAt(chartData(burstSamples(0, 100), 100))).toBeUndefined();
  });

  it("ends the time axis shortly after the last event, and says sampling went on", () => {
    const data = chartData(burstSamples(1000, 100), 100, EVENTS);
    expect(data.events.map((e) => e.label)).toEqual([
      "burst starts",
      "burst ends",
      "5 messages re-sent",
      "backlog drained",
    ]);
    expect(data.end).toBe(33.25);
    expect(data.t.at(-1)).toBe(33.25);
    expect(data.sampledUntil).toBe(60);
    const text = terminalChart(data);
    expect(text).toContain("33 s");
    expect(text).toContain("sampling went on to 60 s");
  });

  it("keeps a tail in which something still happens", () => {
    // A second burst at 45 s, after every event: the axis must not hide it.
    const samples = burstSamples(1000, 100).map((s) =>
      s.t >= 45 ? { ...s, captured: s.captured + 10 * (s.t - 45) } : s,
    );
    const data = chartData(samples, 100, EVENTS);
    expect(data.end).toBe(60);
    expect(data.sampledUntil).toBeUndefined();
  });

  it("draws each terminal row on its own scale: writes at the cap read full, not empty", () => {
    const data = chartData(burstSamples(1000, 100), 100, EVENTS);
    const rows = terminalChart(data, 40).split("\n");
    const row = (label: string) => rows.find((r) => r.trimStart().startsWith(label)) ?? "";
    const bars = (r: string) => r.slice(20, 60);
    // Writing at the cap for most of the axis: the row is mostly full blocks.
    expect([...bars(row("MongoDB writes/s"))].filter((c) => c === "█").length).toBeGreaterThan(30);
    expect(row("MongoDB writes/s")).toContain("0–100 (cap 100)");
    const backlogPeak = Math.max(...data.backlog).toLocaleString("en-US");
    expect(backlogPeak).toBe("2,725");
    expect(row("queue backlog")).toContain(`0–${backlogPeak} records`);
    expect(bars(row("queue backlog"))).toContain("█");
    // Event 1 (1 s of 33.25) lands in the second column of 40; the numbers follow in order.
    const marks = row("events").slice(20);
    expect(marks.indexOf("1")).toBe(1);
    expect(marks.replace(/ /g, "")).toBe("1234");
  });
});

describe.skipIf(!available)("demo report in headless Chromium", () => {
  it("draws one panel per series, stacked on one time axis, each on its own scale", async () => {
    const data = chartData(burstSamples(1000, 100), 100, EVENTS);
    const m = await render(htmlReport(data, ["a burst"]), "capped");
    expect(m.panels.map((p) => p.panel)).toEqual(["incoming", "writes", "backlog"]);
    const strokes = new Set<string>();
    for (const [i, p] of m.panels.entries()) {
      expect(
        p.series.map((s) => s.name),
        p.panel,
      ).toEqual([p.panel]);
      const [line] = p.series;
      expect(line?.points).toHaveLength(data.t.length);
      expect(line?.strokeWidth).toBeGreaterThan(0);
      strokes.add(line?.stroke ?? "");
      // Stacked, not overlapping, and the same width: small multiples.
      expect(p.plot.left).toBeCloseTo(m.panels[0]?.plot.left ?? 0, 0);
      expect(p.plot.right).toBeCloseTo(m.panels[0]?.plot.right ?? 0, 0);
      if (i > 0) expect(p.plot.top).toBeGreaterThan(m.panels[i - 1]?.plot.bottom ?? 0);
      // Its own scale: the line's peak rises at least halfway up its panel.
      const peakY = Math.min(...(line?.points.map(([, y]) => y) ?? []));
      expect(p.plot.bottom - peakY, p.panel).toBeGreaterThan(0.45 * (p.plot.bottom - p.plot.top));
      expect(peakY).toBeGreaterThanOrEqual(p.plot.top - 1);
    }
    expect(strokes.size).toBe(3);
    expect(m.panels.map((p) => p.yMax)).toEqual([1000, 200, 5000]);
    // One time axis, 0 to the end: the i-th point of every series at the same x, the last at
    // the plot's right edge.
    const xs = m.panels.map((p) => p.series[0]?.points.map(([x]) => x));
    expect(xs[1]).toEqual(xs[0]);
    expect(xs[2]).toEqual(xs[0]);
    for (const p of m.panels) expect(p.xMax).toBe(33.25);
    expect(xs[0]?.[0]).toBeCloseTo(m.panels[0]?.plot.left ?? 0, 0);
    expect(xs[0]?.at(-1)).toBeCloseTo(m.panels[0]?.plot.right ?? 0, 0);
  });

  it("marks every event at its time in every panel", async () => {
    const data = chartData(burstSamples(1000, 100), 100, EVENTS);
    const m = await render(htmlReport(data, ["a burst"]), "events");
    const { left, right } = (m.panels[0] as MeasuredPanel).plot;
    const expected = data.events.map((e) => left + (e.t / data.end) * (right - left));
    for (const p of m.panels) {
      expect(p.events).toHaveLength(4);
      for (const [i, x] of p.events.entries()) expect(x).toBeCloseTo(expected[i] as number, 0);
    }
  });

  it("draws the write line at the cap, never above it", async () => {
    const data = chartData(burstSamples(1000, 100), 100, EVENTS);
    const m = await render(htmlReport(data, ["a burst"]), "capped-writes");
    const writes = m.panels.find((p) => p.panel === "writes") as MeasuredPanel;
    const capY = writes.capY as number;
    // Screen y grows downwards: "never above the cap" is y >= the cap line's y.
    const ys = writes.series[0]?.points.map(([, y]) => y) ?? [];
    for (const y of ys) expect(y).toBeGreaterThanOrEqual(capY - 0.5);
    expect(Math.min(...ys)).toBeLessThan(capY + 2);
    // The cap is well inside its panel, not on its top edge.
    expect(capY - writes.plot.top).toBeGreaterThan(0.2 * (writes.plot.bottom - writes.plot.top));
  });

  it("shows a write line that goes over the cap as over it (the check above can fail)", async () => {
    const data = chartData(burstSamples(1000, 150), 100, EVENTS);
    const m = await render(htmlReport(data, ["over the cap"]), "over");
    const writes = m.panels.find((p) => p.panel === "writes") as MeasuredPanel;
    const top = Math.min(...(writes.series[0]?.points.map(([, y]) => y) ?? []));
    expect(top).toBeLessThan((writes.capY as number) - 5);
  });
});

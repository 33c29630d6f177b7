// The demo's HTML report, rendered by a real browser (Debian's headless Chromium): the chart
// must show the data — three series, and the MongoDB write line never above the cap line.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { chartData, drainedAt, htmlReport, type MetricsSample } from "../../scripts/demo/chart.js";

const CHROMIUM = process.env.AUDITQ_CHROMIUM ?? "/usr/bin/chromium";
const available = existsSync(CHROMIUM);
if (!available) {
  console.warn(
    `SKIPPED demo report test: no Chromium at ${CHROMIUM} (install Debian's "chromium"; .ci/run does, or set AUDITQ_CHROMIUM)`,
  );
}

// Runs in the page after the chart is laid out: where each line was drawn, in screen pixels.
const MEASURE = `<script>
const svg = document.getElementById("chart");
const toScreen = (el, x, y) => new DOMPoint(x, y).matrixTransform(el.getScreenCTM());
const out = { series: {} };
for (const el of svg.querySelectorAll("polyline[data-series]")) {
  const style = getComputedStyle(el);
  out.series[el.dataset.series] = {
    points: Array.from(el.points, (p) => { const q = toScreen(el, p.x, p.y); return [q.x, q.y]; }),
    stroke: style.stroke, strokeWidth: parseFloat(style.strokeWidth),
    box: el.getBoundingClientRect().toJSON(),
  };
}
const cap = svg.querySelector("line[data-series=cap]");
out.capY = toScreen(cap, 0, cap.y1.baseVal.value).y;
const pre = document.createElement("pre");
pre.id = "measured";
pre.textContent = JSON.stringify(out);
document.body.append(pre);
</script>`;

interface Measured {
  series: Record<
    string,
    { points: [number, number][]; stroke: string; strokeWidth: number; box: { width: number } }
  >;
  capY: number;
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

/** A burst like the demo's: 1 s quiet, 3 s at `burstRate`, writes at `writeRate` until done. */
function burstSamples(burstRate: number, writeRate: number): MetricsSample[] {
  const samples: MetricsSample[] = [];
  const total = burstRate * 3;
  for (let t = 0; t <= 40; t += 0.25) {
    const captured = Math.min(total, Math.max(0, t - 1) * burstRate);
    const written = Math.min(captured, Math.max(0, t - 1.25) * writeRate);
    samples.push({ t, captured, sent: captured, written, queueMessages: 0 });
  }
  return samples;
}

it("says when the backlog drained, not when sampling stopped", () => {
  // 1 s quiet, 3 s at 1,000/s, writes at 100/s: 3,000 records, written by t = 31.25 s; the
  // samples go on to 40 s.
  const data = chartData(burstSamples(1000, 100), 100);
  expect(drainedAt(data)).toBe(31.25);
  expect(drainedAt(chartData(burstSamples(0, 100), 100))).toBeUndefined();
});

describe.skipIf(!available)("demo report in headless Chromium", () => {
  it("draws three series on one time axis, and the write line never above the cap", async () => {
    const data = chartData(burstSamples(1000, 100), 100);
    const m = await render(htmlReport(data, ["a burst"]), "capped");
    expect(Object.keys(m.series).sort()).toEqual(["backlog", "incoming", "writes"]);
    const strokes = new Set<string>();
    for (const s of Object.values(m.series)) {
      expect(s.points).toHaveLength(data.t.length);
      expect(s.box.width).toBeGreaterThan(500);
      expect(s.strokeWidth).toBeGreaterThan(0);
      strokes.add(s.stroke);
    }
    expect(strokes.size).toBe(3);
    // One time axis: the i-th point of every series is drawn at the same x.
    const xs = (name: string) => m.series[name]?.points.map(([x]) => x);
    expect(xs("writes")).toEqual(xs("incoming"));
    expect(xs("backlog")).toEqual(xs("incoming"));
    // Screen y grows downwards: "never above the cap" is y >= the cap line's y.
    for (const [, y] of m.series.writes?.points ?? [])
      expect(y).toBeGreaterThanOrEqual(m.capY - 0.5);
    // The spike and the backlog show: well above the cap line, and off their baselines.
    const top = (name: string) => Math.min(...(m.series[name]?.points.map(([, y]) => y) ?? []));
    expect(top("incoming")).toBeLessThan(m.capY - 100);
    expect(top("writes")).toBeGreaterThan(m.capY - 1);
    expect(top("writes")).toBeLessThan(m.capY + 2);
    const backlogYs = m.series.backlog?.points.map(([, y]) => y) ?? [];
    expect(Math.max(...backlogYs) - Math.min(...backlogYs)).toBeGreaterThan(150);
  });

  it("shows a write line that goes over the cap as over it (the check above can fail)", async () => {
    const data = chartData(burstSamples(1000, 150), 100);
    const m = await render(htmlReport(data, ["over the cap"]), "over");
    const top = Math.min(...(m.series.writes?.points.map(([, y]) => y) ?? []));
    expect(top).toBeLessThan(m.capY - 5);
  });
});

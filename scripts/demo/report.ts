// The demo's HTML report: small multiples, one panel per series, each on its own y scale, all on
// one time axis from 0 to ChartData.end, with the demo's events marked across every panel. A
// self-contained page (no external files, nothing executable) with the data embedded as JSON.
import { type ChartData, fmt } from "./chart.js";

const W = 900;
const M = { left: 72, right: 24, top: 64, bottom: 40 };
const PANEL_H = 150;
const GAP = 34;

interface Panel {
  series: "incoming" | "writes" | "backlog";
  title: string;
  values: number[];
  /** The lowest top the y axis may have (the write cap must show). */
  atLeast: number;
}

/** The smallest 1, 2, 2.5 or 5 times a power of ten at or above `max`. */
function niceTop(max: number): number {
  if (max <= 0) return 1;
  const step = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * step >= max) return m * step;
  return 10 * step;
}

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] ?? c,
  );

/** A time step giving 5 to 10 ticks over `end` seconds. */
function timeStep(end: number): number {
  for (const s of [1, 2, 5, 10, 20, 30, 60, 120]) if (end / s <= 10) return s;
  return 300;
}

export function htmlReport(data: ChartData, summary: string[]): string {
  const x0 = M.left;
  const x1 = W - M.right;
  const end = Math.max(data.end, 1e-9);
  const x = (t: number) => x0 + (t / end) * (x1 - x0);
  const peak = (xs: number[]) => Math.max(0, ...xs);
  const panels: Panel[] = [
    { series: "incoming", title: "Incoming requests/s", values: data.incoming, atLeast: 0 },
    // The cap sits at or below 80% of its panel, so the write line is seen against it.
    { series: "writes", title: "MongoDB writes/s", values: data.writes, atLeast: data.cap * 1.25 },
    { series: "backlog", title: "Queue backlog (records)", values: data.backlog, atLeast: 0 },
  ];
  const H = M.top + panels.length * PANEL_H + (panels.length - 1) * GAP + M.bottom;
  const step = timeStep(end);
  const body = panels
    .map((p, i) => {
      const top = M.top + i * (PANEL_H + GAP);
      const bottom = top + PANEL_H;
      const yMax = niceTop(Math.max(p.atLeast, peak(p.values), 1));
      const y = (v: number) => bottom - (v / yMax) * PANEL_H;
      const grid = [0, 0.5, 1]
        .map(
          (f) =>
            `<line class="grid" x1="${x0}" x2="${x1}" y1="${y(f * yMax)}" y2="${y(f * yMax)}"/><text class="axis" x="${x0 - 6}" y="${y(f * yMax) + 4}" text-anchor="end">${fmt(f * yMax)}</text>`,
        )
        .join("");
      const ticks: string[] = [];
      for (let t = 0; t <= end + 1e-9; t += step) {
        ticks.push(
          `<line class="tick" x1="${x(t)}" x2="${x(t)}" y1="${bottom}" y2="${bottom + 4}"/>`,
        );
        // Tick labels under every panel would crowd; the bottom panel carries them.
        if (i === panels.length - 1) {
          ticks.push(
            `<text class="axis" x="${x(t)}" y="${bottom + 18}" text-anchor="middle">${t} s</text>`,
          );
        }
      }
      const events = data.events
        .map(
          (e, n) =>
            `<line data-event="${n + 1}" class="event" x1="${x(e.t)}" x2="${x(e.t)}" y1="${top}" y2="${bottom}"/>`,
        )
        .join("");
      const maxAt = p.values.indexOf(peak(p.values));
      const peakLabel =
        p.series === "writes"
          ? `peak ${fmt(peak(p.values))}/s, cap ${fmt(data.cap)}/s`
          : `peak ${fmt(peak(p.values))}${p.series === "backlog" ? " records" : "/s"} at ${(data.t[maxAt] ?? 0).toFixed(1)} s`;
      const cap =
        p.series === "writes"
          ? `<line data-series="cap" class="cap" x1="${x0}" x2="${x1}" y1="${y(data.cap)}" y2="${y(data.cap)}"/><text class="cap-label" x="${x1 - 4}" y="${y(data.cap) - 5}" text-anchor="end">write cap ${fmt(data.cap)}/s</text>`
          : "";
      const points = p.values
        .map((v, k) => `${x(data.t[k] as number).toFixed(1)},${y(v).toFixed(1)}`)
        .join(" ");
      return `<g class="panel" data-panel="${p.series}" data-y-max="${yMax}" data-x-max="${end}">
<rect class="plot" x="${x0}" y="${top}" width="${x1 - x0}" height="${PANEL_H}"/>
<text class="title" x="${x0}" y="${top - 8}">${escapeHtml(p.title)}</text><text class="peak" x="${x1}" y="${top - 8}" text-anchor="end">${escapeHtml(peakLabel)}</text>
${grid}${ticks.join("")}${events}${cap}
<polyline data-series="${p.series}" class="${p.series}" fill="none" points="${points}"/>
</g>`;
    })
    .join("\n");
  // Numbered event markers above the first panel; a marker too close to the previous one
  // moves up a row so the numbers never overlap.
  let lastX = Number.NEGATIVE_INFINITY;
  let row = 0;
  const markers = data.events
    .map((e, n) => {
      row = x(e.t) - lastX < 18 ? row + 1 : 0;
      lastX = x(e.t);
      const cy = M.top - 30 - row * 18;
      return `<g class="marker"><circle cx="${x(e.t)}" cy="${cy}" r="8"/><text x="${x(e.t)}" y="${cy + 4}" text-anchor="middle">${n + 1}</text></g>`;
    })
    .join("");
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" id="chart" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">
<rect width="${W}" height="${H}" fill="#fff"/>
${markers}
${body}
<text class="axis" x="${(x0 + x1) / 2}" y="${H - 4}" text-anchor="middle">seconds since the demo started sampling</text>
</svg>`;
  const eventList = data.events
    .map((e, n) => `<li value="${n + 1}">${escapeHtml(e.label)} at ${e.t.toFixed(1)} s</li>`)
    .join("");
  const tail =
    data.sampledUntil === undefined
      ? ""
      : `<p class="note">Sampling went on to ${data.sampledUntil.toFixed(0)} s, until SQS reported the queue empty; nothing changed after ${end.toFixed(0)} s, so the time axis ends there.</p>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>auditq demo: a burst, shaved</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 16px; color: #222; }
.plot { fill: none; stroke: #ccc; } .grid { stroke: #eee; } .tick { stroke: #999; }
.axis { font-size: 11px; fill: #555; } .title { font-size: 13px; font-weight: 600; fill: #222; }
.peak { font-size: 12px; fill: #555; } .cap-label { font-size: 11px; fill: #c0392b; }
.incoming { stroke: #1f6fd1; stroke-width: 2; } .writes { stroke: #1a9e3f; stroke-width: 2.5; }
.backlog { stroke: #e08a00; stroke-width: 2; } .cap { stroke: #c0392b; stroke-width: 1.5; stroke-dasharray: 6 4; }
.event { stroke: #777; stroke-width: 1; stroke-dasharray: 2 3; }
.marker circle { fill: #555; } .marker text { font-size: 11px; font-weight: 600; fill: #fff; }
ol.events { margin: 4px 0 0 0; } .note { color: #555; }
</style></head>
<body>
<h1>auditq demo: a burst, shaved</h1>
${svg}
<ol class="events">${eventList}</ol>
${tail}
<ul>${summary.map((s) => `<li>${escapeHtml(s)}</li>`).join("")}</ul>
<script type="application/json" id="demo-data">${JSON.stringify(data)}</script>
</body></html>
`;
}

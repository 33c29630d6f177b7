// Reads the demo's numbers the way Prometheus would: from the /metrics endpoints.
import type { MetricsSample } from "./chart.js";

/** Sum of every series of each metric in a Prometheus text exposition, by metric name. */
export function parseMetrics(text: string): Map<string, number> {
  const totals = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})?\s+(\S+)/.exec(line);
    if (match === null) continue;
    const value = Number(match[2]);
    if (!Number.isFinite(value)) continue;
    const name = match[1] as string;
    totals.set(name, (totals.get(name) ?? 0) + value);
  }
  return totals;
}

async function scrape(url: string): Promise<Map<string, number>> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return parseMetrics(await res.text());
}

/** One sample from the app's and the sidecar's endpoints, read at the same time. */
export async function sample(
  appUrl: string,
  sidecarUrl: string,
  t: number,
): Promise<MetricsSample> {
  const [app, sidecar] = await Promise.all([scrape(appUrl), scrape(sidecarUrl)]);
  return {
    t,
    captured: app.get("auditq_records_captured_total") ?? 0,
    sent: app.get("auditq_records_sent_total") ?? 0,
    written: sidecar.get("auditq_sidecar_records_written_total") ?? 0,
    queueMessages: sidecar.get("auditq_sidecar_queue_messages") ?? 0,
  };
}

/** Samples every `everyMs` until stopped; each scrape waits for the last (no pile-up). */
export function startSampler(appUrl: string, sidecarUrl: string, everyMs: number) {
  const samples: MetricsSample[] = [];
  const errors: unknown[] = [];
  const t0 = performance.now();
  let running = true;
  const loop = (async () => {
    while (running) {
      const due = performance.now() + everyMs;
      try {
        samples.push(await sample(appUrl, sidecarUrl, (performance.now() - t0) / 1000));
      } catch (err) {
        errors.push(err);
      }
      await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
    }
  })();
  return {
    samples,
    errors,
    /** Seconds since sampling started: the samples' clock, for marking events on it. */
    elapsed: () => (performance.now() - t0) / 1000,
    last: () => samples.at(-1),
    async stop() {
      running = false;
      await loop;
    },
  };
}

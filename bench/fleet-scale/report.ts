// What bench:fleet-scale reports from one run's samples: overshoot, convergence, distance from
// the demand-fair split, lease load.
import type { LeaseCounts } from "./counting.js";
import type { Outcome, Timeline } from "./scenario.js";
import type { Sample } from "./world.js";

export interface Row {
  backend: string;
  size: number;
  lifetimeMs: number;
  opsPerSecond: number;
  docsPerSecond: number;
  /** Per renewal period P, independent of the lifetime. */
  opsPerPeriod: number;
  docsPerPeriod: number;
  over1s: number;
  over5s: number;
  /** Highest 5 s mean of Σ min(share, demand) over the budget. */
  served5s: number;
  burstConvergeP: number | undefined;
  deathConvergeP: number | undefined;
  /** Median distance from the demand-fair split in the burst's steady part, and at the end. */
  distBurst: number;
  /** Steady served / fair-served in the burst, after the deaths, and calm. */
  servedBurst: number;
  servedDeath: number;
  servedCalm: number;
  distCalm: number;
  renewals: number;
  failures: number;
  /** Mean wall ms a member waited on each lease operation kind. */
  meanWaitMs: Record<string, number>;
  cpuMsPerRenewal: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : (s[Math.floor(s.length / 2)] as number);
};

/** Highest mean of `f` over `width` consecutive 1 s samples. */
function peak(samples: Sample[], width: number, f: (s: Sample) => number): number {
  let best = Number.NEGATIVE_INFINITY;
  for (let i = 0; i + width <= samples.length; i++) {
    let sum = 0;
    for (let k = i; k < i + width; k++) sum += f(samples[k] as Sample);
    best = Math.max(best, sum / width);
  }
  return best;
}

const servedRatio = (s: Sample) => s.served / s.fairServed;

/** The phase's steady level of served / fair-served: the median over its second half. */
function steady(samples: Sample[], from: number, to: number): number {
  return median(samples.filter((s) => s.t >= (from + to) / 2 && s.t < to).map(servedRatio));
}

/**
 * Periods from `from` (ms) until served / fair-served is within 5 points of the phase's steady
 * level for 3 samples in a row (the protocol's headroom keeps the steady level under 100 %).
 */
function converge(samples: Sample[], from: number, to: number, P: number): number | undefined {
  const level = steady(samples, from, to) - 0.05;
  const w = samples.filter((s) => s.t >= from && s.t < to);
  for (let i = 0; i + 3 <= w.length; i++) {
    if (w.slice(i, i + 3).every((s) => servedRatio(s) >= level)) {
      return ((w[i] as Sample).t - from) / P;
    }
  }
  return undefined;
}

export function summarize(
  backend: string,
  o: { size: number; lifetimeMs: number; budget: number },
  out: Outcome,
  counts: LeaseCounts,
  tl: Timeline,
  cpuMs: number,
): Row {
  const P = o.lifetimeMs / 3;
  const seconds = (tl.endAt * P) / 1000;
  const ops = Object.values(counts.ops).reduce((a, b) => a + b, 0);
  const s = out.samples.filter((x) => x.t >= 2 * P);
  const ratio = (x: Sample) => x.sumShares / o.budget - 1;
  const meanWaitMs: Record<string, number> = {};
  for (const [k, n] of Object.entries(counts.ops)) meanWaitMs[k] = (counts.waitMs[k] ?? 0) / n;
  return {
    backend,
    size: o.size,
    lifetimeMs: o.lifetimeMs,
    opsPerSecond: ops / seconds,
    docsPerSecond: counts.docsRead / seconds,
    opsPerPeriod: ops / tl.endAt,
    docsPerPeriod: counts.docsRead / tl.endAt,
    over1s: peak(s, 1, ratio),
    over5s: peak(s, 5, ratio),
    served5s: peak(s, 5, (x) => x.served / o.budget - 1),
    burstConvergeP: converge(out.samples, tl.burstAt * P, tl.dieAt * P, P),
    deathConvergeP: converge(out.samples, tl.dieAt * P, tl.burstEndAt * P, P),
    distBurst: median(
      out.samples
        .filter((x) => x.t >= (tl.burstAt + 6) * P && x.t < tl.dieAt * P)
        .map((x) => x.distance),
    ),
    distCalm: median(
      out.samples.filter((x) => x.t >= (tl.burstEndAt + 4) * P).map((x) => x.distance),
    ),
    servedBurst: steady(out.samples, tl.burstAt * P, tl.dieAt * P),
    servedDeath: steady(out.samples, tl.dieAt * P, tl.burstEndAt * P),
    servedCalm: steady(out.samples, tl.burstEndAt * P, tl.endAt * P),
    renewals: out.renewals,
    failures: out.failures,
    meanWaitMs,
    cpuMsPerRenewal: cpuMs / Math.max(1, out.renewals),
  };
}

const pct = (x: number) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)} %`;
const p = (x: number | undefined) => (x === undefined ? "never" : `${x.toFixed(1)} P`);

export function printTable(rows: Row[], budget: number): void {
  console.log(
    `\nbudget ${budget} records/s; P = leaseLifetimeMs / 3; 2 s at the default 6,000 ms\n`,
  );
  console.log(
    "| backend | members | lifetime | lease ops/s | docs read/s | ops / P | docs read / P | highest 1 s Σ shares | highest 5 s | highest 5 s Σ min(share, demand) | burst → steady | 20 % die → steady | served / fair: burst, after deaths, calm | distance, burst | distance, calm | renewals (failed) | CPU ms / renewal |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (const r of rows) {
    console.log(
      `| ${r.backend} | ${r.size} | ${r.lifetimeMs} ms | ${r.opsPerSecond.toFixed(0)} | ${r.docsPerSecond.toFixed(0)} | ${r.opsPerPeriod.toFixed(0)} | ${r.docsPerPeriod.toFixed(0)} | ${pct(r.over1s)} | ${pct(r.over5s)} | ${pct(r.served5s)} | ${p(r.burstConvergeP)} | ${p(r.deathConvergeP)} | ${[r.servedBurst, r.servedDeath, r.servedCalm].map((x) => `${(x * 100).toFixed(0)} %`).join(", ")} | ${(r.distBurst * 100).toFixed(1)} % | ${(r.distCalm * 100).toFixed(1)} % | ${r.renewals} (${r.failures}) | ${r.cpuMsPerRenewal.toFixed(2)} |`,
    );
  }
}

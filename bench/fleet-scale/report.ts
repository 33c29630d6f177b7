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
  /** From the burst on: past the fleet's start, when every member renews at the shortest period. */
  steadyOpsPerSecond: number;
  steadyDocsPerSecond: number;
  /** Mean renewal period of the live members at the end, ms. */
  meanPeriodMs: number;
  over1s: number;
  over5s: number;
  /** Highest 5 s mean of Σ min(share, demand) over the budget. */
  served5s: number;
  /** Seconds to steady after the burst starts, and after a fifth die. */
  burstConvergeS: number | undefined;
  deathConvergeS: number | undefined;
  /**
   * Seconds from the deaths until Σ shares of the live members is back within 5 points of the
   * budget's share it held over the 10 s before (the dead members' shares handed out again).
   */
  rebalanceS: number | undefined;
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
 * Seconds from `from` (ms) until served / fair-served is within 5 points of the phase's steady
 * level for 3 samples in a row (the protocol's headroom keeps the steady level under 100 %).
 */
function converge(samples: Sample[], from: number, to: number): number | undefined {
  const level = steady(samples, from, to) - 0.05;
  const w = samples.filter((s) => s.t >= from && s.t < to);
  for (let i = 0; i + 3 <= w.length; i++) {
    if (w.slice(i, i + 3).every((s) => servedRatio(s) >= level)) {
      return ((w[i] as Sample).t - from) / 1000;
    }
  }
  return undefined;
}

/** See Row.rebalanceS. */
function rebalance(samples: Sample[], dieAt: number, budget: number): number | undefined {
  const held = (s: Sample) => s.sumShares / budget;
  const level = median(samples.filter((s) => s.t >= dieAt - 10_000 && s.t < dieAt).map(held));
  const w = samples.filter((s) => s.t >= dieAt);
  for (let i = 0; i + 3 <= w.length; i++) {
    if (w.slice(i, i + 3).every((s) => held(s) >= level - 0.05)) {
      return ((w[i] as Sample).t - dieAt) / 1000;
    }
  }
  return undefined;
}

/** What the lease collection was asked from the burst on (`atBurst`: the counts then). */
export interface Steady {
  ops: number;
  docsRead: number;
}

const opsOf = (c: LeaseCounts) => Object.values(c.ops).reduce((a, b) => a + b, 0);

/** The totals of `c` now, to subtract at the end. */
export function snapshot(c: LeaseCounts): Steady {
  return { ops: opsOf(c), docsRead: c.docsRead };
}

export function summarize(
  backend: string,
  o: { size: number; lifetimeMs: number; budget: number; meanPeriodMs: number },
  out: Outcome,
  counts: LeaseCounts,
  atBurst: Steady,
  tl: Timeline,
  cpuMs: number,
): Row {
  const P = o.lifetimeMs / 3;
  const seconds = tl.endAt / 1000;
  const steadySeconds = (tl.endAt - tl.burstAt) / 1000;
  const ops = opsOf(counts);
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
    steadyOpsPerSecond: (ops - atBurst.ops) / steadySeconds,
    steadyDocsPerSecond: (counts.docsRead - atBurst.docsRead) / steadySeconds,
    meanPeriodMs: o.meanPeriodMs,
    over1s: peak(s, 1, ratio),
    over5s: peak(s, 5, ratio),
    served5s: peak(s, 5, (x) => x.served / o.budget - 1),
    burstConvergeS: converge(out.samples, tl.burstAt, tl.dieAt),
    deathConvergeS: converge(out.samples, tl.dieAt, tl.burstEndAt),
    rebalanceS: rebalance(out.samples, tl.dieAt, o.budget),
    distBurst: median(
      out.samples
        .filter((x) => x.t >= (tl.burstAt + tl.dieAt) / 2 && x.t < tl.dieAt)
        .map((x) => x.distance),
    ),
    distCalm: median(
      out.samples.filter((x) => x.t >= (tl.burstEndAt + tl.endAt) / 2).map((x) => x.distance),
    ),
    servedBurst: steady(out.samples, tl.burstAt, tl.dieAt),
    servedDeath: steady(out.samples, tl.dieAt, tl.burstEndAt),
    servedCalm: steady(out.samples, tl.burstEndAt, tl.endAt),
    renewals: out.renewals,
    failures: out.failures,
    meanWaitMs,
    cpuMsPerRenewal: cpuMs / Math.max(1, out.renewals),
  };
}

const pct = (x: number) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)} %`;
const sec = (x: number | undefined) => (x === undefined ? "never" : `${x.toFixed(0)} s`);

export function printTable(rows: Row[], budget: number): void {
  console.log(`\nbudget ${budget} records/s; lease load as a share of it in brackets\n`);
  console.log(
    "| code, members | mean period at end | lease ops/s: whole run, from the burst on | lease docs read/s, from the burst on | highest 1 s Σ shares | highest 5 s | highest 5 s Σ min(share, demand) | burst → steady | 20 % die → steady | 20 % die → Σ shares back | served / fair: burst, after deaths, calm | distance, burst | distance, calm | renewals (failed) | CPU ms / renewal |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
  const load = (x: number) => `${x.toFixed(0)} (${((x / budget) * 100).toFixed(1)} %)`;
  for (const r of rows) {
    console.log(
      `| ${r.backend}, ${r.size} | ${(r.meanPeriodMs / 1000).toFixed(1)} s | ${load(r.opsPerSecond)}, ${load(r.steadyOpsPerSecond)} | ${load(r.steadyDocsPerSecond)} | ${pct(r.over1s)} | ${pct(r.over5s)} | ${pct(r.served5s)} | ${sec(r.burstConvergeS)} | ${sec(r.deathConvergeS)} | ${sec(r.rebalanceS)} | ${[r.servedBurst, r.servedDeath, r.servedCalm].map((x) => `${(x * 100).toFixed(0)} %`).join(", ")} | ${(r.distBurst * 100).toFixed(1)} % | ${(r.distCalm * 100).toFixed(1)} % | ${r.renewals} (${r.failures}) | ${r.cpuMsPerRenewal.toFixed(2)} |`,
    );
  }
}

// The scenario bench:fleet-scale runs, in seconds (the renewal period varies with the fleet's size),
// on a scheduler that is either the real clock (FerretDB) or a virtual one (the in-memory stand-in).
import type { Sample, SimMember, World } from "./world.js";

/** Runs `fn` at time `t` (ms since the start); `run` returns at `until`. */
export interface Scheduler {
  now(): number;
  at(t: number, fn: () => unknown): void;
  run(until: number): Promise<void>;
}

/** A virtual clock: events run one at a time, in order, each taking no virtual time. */
export function virtualScheduler(): Scheduler {
  let clock = 0;
  const events: { t: number; seq: number; fn: () => unknown }[] = [];
  let seq = 0;
  return {
    now: () => clock,
    at: (t, fn) => {
      events.push({ t, seq: seq++, fn });
    },
    run: async (until) => {
      for (;;) {
        let best = -1;
        for (let i = 0; i < events.length; i++) {
          const e = events[i] as (typeof events)[number];
          const b = events[best] as (typeof events)[number] | undefined;
          if (b === undefined || e.t < b.t || (e.t === b.t && e.seq < b.seq)) best = i;
        }
        const e = events[best];
        if (e === undefined || e.t > until) return;
        events[best] = events[events.length - 1] as (typeof events)[number];
        events.pop();
        clock = e.t;
        await e.fn();
      }
    },
  };
}

/** The real clock. */
export function realScheduler(): Scheduler {
  const t0 = performance.now();
  const timers = new Set<NodeJS.Timeout>();
  return {
    now: () => performance.now() - t0,
    at: (t, fn) => {
      const h = setTimeout(
        () => {
          timers.delete(h);
          fn();
        },
        Math.max(0, t - (performance.now() - t0)),
      );
      timers.add(h);
    },
    run: async (until) => {
      await new Promise((r) => setTimeout(r, Math.max(0, until - (performance.now() - t0))));
      for (const h of timers) clearTimeout(h);
    },
  };
}

export interface Timeline {
  /** Phase starts, ms. */
  burstAt: number;
  dieAt: number;
  burstEndAt: number;
  endAt: number;
}

/**
 * The phases of a run of `endMs`: the burst from 12/55 of it, a fifth dying at 30/55, the burst
 * ending at 45/55 (the proportions of the 55-period runs before the adaptive period).
 */
export function timeline(endMs: number): Timeline {
  const at = (x: number) => Math.round((endMs * x) / 55);
  return { burstAt: at(12), dieAt: at(30), burstEndAt: at(45), endAt: endMs };
}

export interface Outcome {
  samples: Sample[];
  renewals: number;
  failures: number;
  joined: number;
  died: number;
  /** Mean renewal period of the members alive at the end, ms. */
  meanPeriodMs: number;
}

/**
 * Runs the scenario on `world`: `size` members join over `periodMs` (the shortest renewal
 * period, 2 s by default); demand redrawn every `periodMs`, whatever the renewal period; churn
 * at `churnPerMinute` (deaths and joins); at `burstAt` a tenth of the members want
 * `burstLoad` × budget between them; at `dieAt` a fifth die at once; at `burstEndAt` the burst
 * ends. Each member renews as the sidecar does: once on joining, then its next (jittered)
 * period after each renewal ends.
 */
export async function runScenario(
  world: World,
  s: Scheduler,
  o: { size: number; periodMs: number; budget: number; burstLoad: number; churnPerMinute: number },
  tl: Timeline,
): Promise<Outcome> {
  const P = o.periodMs;
  const out: Outcome = {
    samples: world.samples,
    renewals: 0,
    failures: 0,
    joined: 0,
    died: 0,
    meanPeriodMs: 0,
  };
  let burstRate = 0;
  const inflight = new Set<Promise<void>>();
  const loop = async (m: SimMember) => {
    if (!m.alive) return;
    const renewal = m.fm.renew();
    inflight.add(renewal);
    try {
      await renewal;
      out.renewals++;
    } catch (err) {
      // Counted, not fatal: a member keeps its last share, as the sidecar does.
      out.failures++;
      if (out.failures <= 3) console.warn("renewal failed:", (err as Error).message);
    } finally {
      inflight.delete(renewal);
    }
    if (m.alive) s.at(s.now() + m.fm.nextRenewalInMs(), () => loop(m));
  };
  const join = (at: number) => {
    const m = world.add();
    world.rescale();
    m.demand = m.base;
    s.at(at, () => loop(m));
  };
  for (let i = 0; i < o.size; i++) join((P * i) / o.size);
  const redraw = () => {
    world.redraw(burstRate);
    if (s.now() + P <= tl.endAt) s.at(s.now() + P, redraw);
  };
  s.at(0, redraw);
  s.at(tl.burstAt, () => {
    const live = world.alive;
    const n = Math.max(1, Math.round(live.length / 10));
    for (const m of live.slice(0, n)) m.bursting = true;
    burstRate = (o.burstLoad * o.budget) / n;
    world.redraw(burstRate);
  });
  s.at(tl.dieAt, () => {
    out.died += world.kill(0.2).length;
    world.rescale();
  });
  s.at(tl.burstEndAt, () => {
    for (const m of world.alive) m.bursting = false;
    world.redraw(burstRate);
  });
  // Churn: each second, each live member dies with probability rate/60, and as many join.
  const tick = () => {
    const t = s.now();
    const p = o.churnPerMinute / 60;
    for (const m of world.alive) {
      if (world.rand() < p) {
        m.alive = false;
        out.died++;
        join(t + world.rand() * 1000);
        out.joined++;
      }
    }
    world.sample(t);
    if (t + 1000 <= tl.endAt) s.at(t + 1000, tick);
  };
  s.at(1000, tick);
  await s.run(tl.endAt);
  const live = world.alive;
  out.meanPeriodMs = live.reduce((a, m) => a + m.fm.renewalPeriodMs, 0) / live.length;
  // Renewals still running (real clock) finish before the caller closes the client.
  for (const m of world.members) m.alive = false;
  await Promise.allSettled([...inflight]);
  return out;
}

// The scenario bench:fleet-scale runs, in renewal periods P (= leaseLifetimeMs / 3), on a
// scheduler that is either the real clock (FerretDB) or a virtual one (the in-memory stand-in).
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
  /** Phase starts, in P. */
  burstAt: number;
  dieAt: number;
  burstEndAt: number;
  endAt: number;
}

export const TIMELINE: Timeline = { burstAt: 12, dieAt: 30, burstEndAt: 45, endAt: 55 };

export interface Outcome {
  samples: Sample[];
  renewals: number;
  failures: number;
  joined: number;
  died: number;
}

/**
 * Runs the scenario on `world`: `size` members join over one P; demand redrawn every P; churn
 * at `churnPerMinute` (deaths and joins); at `burstAt` a tenth of the members want
 * `burstLoad` × budget between them; at `dieAt` a fifth die at once; at `burstEndAt` the burst
 * ends. Each member renews as the sidecar does: once on joining, then its next (jittered)
 * period after each renewal ends.
 */
export async function runScenario(
  world: World,
  s: Scheduler,
  o: { size: number; periodMs: number; budget: number; burstLoad: number; churnPerMinute: number },
  tl: Timeline = TIMELINE,
): Promise<Outcome> {
  const P = o.periodMs;
  const out: Outcome = { samples: world.samples, renewals: 0, failures: 0, joined: 0, died: 0 };
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
    if (s.now() + P <= tl.endAt * P) s.at(s.now() + P, redraw);
  };
  s.at(0, redraw);
  s.at(tl.burstAt * P, () => {
    const live = world.alive;
    const n = Math.max(1, Math.round(live.length / 10));
    for (const m of live.slice(0, n)) m.bursting = true;
    burstRate = (o.burstLoad * o.budget) / n;
    world.redraw(burstRate);
  });
  s.at(tl.dieAt * P, () => {
    out.died += world.kill(0.2).length;
    world.rescale();
  });
  s.at(tl.burstEndAt * P, () => {
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
    if (t + 1000 <= tl.endAt * P) s.at(t + 1000, tick);
  };
  s.at(1000, tick);
  await s.run(tl.endAt * P);
  // Renewals still running (real clock) finish before the caller closes the client.
  for (const m of world.members) m.alive = false;
  await Promise.allSettled([...inflight]);
  return out;
}

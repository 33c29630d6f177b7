// The simulated fleet around real FleetMembership objects: skewed, bursty demand, churn, a mass
// death, and per-second samples of the shares against the budget and the demand-fair split.
import type { Collection } from "mongodb";
import type { Logger } from "../../shared/util/logger.js";
import type { SidecarMetrics } from "../../sidecar/config/metrics.js";
import { FleetMembership, type LeaseDoc } from "../../sidecar/fleet/lease.js";
import { claimOf } from "../../sidecar/fleet/share.js";
import { prng } from "../../test/helpers/prng.js";

/** A member of the simulation: the real lease code, and what it would write. */
export interface SimMember {
  fm: FleetMembership;
  /** Its base demand (records/s) from the skew; `demand` is that, bursts and noise applied. */
  base: number;
  /** Join order, from 1: the Zipf rank of its base demand. */
  rank: number;
  demand: number;
  /** Its share from its last renewal; 0 before the first. */
  share: number;
  alive: boolean;
  bursting: boolean;
  /** Records it wrote since its last claim, from `since` (ms) to the last change of demand or share. */
  spent: number;
  since: number;
  /** When it last claimed (its renewal's demand()), ms. */
  claimedAt: number;
  /** Whether it wanted more than its share at any moment since its last claim. */
  throttled: boolean;
  /** Whether it was throttled at its previous claim. */
  throttledBefore: boolean;
}

export interface Sample {
  t: number;
  members: number;
  sumShares: number;
  /** Σ min(share, demand): what the fleet would write. */
  served: number;
  /** Σ min(fair, demand) = min(budget, Σ demand). */
  fairServed: number;
  /** ½ Σ |min(share, demand) − fair| / budget. */
  distance: number;
}

const noop = () => undefined;
const counter = { inc: noop, set: noop };
/** The metrics FleetMembership touches, doing nothing. */
const stubMetrics = {
  errors: counter,
  fleetInvalidLeases: counter,
  fleetMembers: counter,
  fleetBudget: counter,
} as unknown as SidecarMetrics;

/** A logger that counts warnings (a renewal that failed) and drops the rest. */
function countingLogger(): Logger & { warnings: number } {
  const l = {
    warnings: 0,
    info: noop,
    debug: noop,
    error: noop,
    warn: () => {
      l.warnings++;
    },
  };
  return l as unknown as Logger & { warnings: number };
}

/** Max-min fair (water-filling) split of `budget` over `demands`. */
function fairSplit(budget: number, demands: readonly number[]): number[] {
  const order = demands.map((d, i) => ({ d, i })).sort((a, b) => a.d - b.d);
  const out = new Array<number>(demands.length).fill(0);
  let left = budget;
  for (const [k, { d, i }] of order.entries()) {
    const g = Math.min(d, left / (order.length - k));
    out[i] = g;
    left -= g;
  }
  return out;
}

export interface WorldOptions {
  budget: number;
  lifetimeMs: number;
  leases: Collection<LeaseDoc>;
  /** The scenario's clock, ms. */
  now: () => number;
  seed: number;
  /** Σ base demand as a fraction of the budget. */
  baseLoad: number;
  /** Each period's demand is base × a uniform factor in [1 − noise, 1 + noise). */
  noise: number;
}

export class World {
  readonly members: SimMember[] = [];
  readonly samples: Sample[] = [];
  readonly logger = countingLogger();
  readonly rand: () => number;
  /** The members' renewal jitter, drawn apart so that the demand's draws stay the same. */
  private readonly jitter: () => number;
  private rank = 0;

  constructor(private readonly o: WorldOptions) {
    this.rand = prng(o.seed);
    this.jitter = prng(o.seed + 0x9e3779b9);
  }

  get alive(): SimMember[] {
    return this.members.filter((m) => m.alive);
  }

  /** A new member; base demand Zipf-skewed by join order, scaled later by `rescale`. */
  add(): SimMember {
    const rank = ++this.rank;
    const m: SimMember = {
      base: 1 / rank,
      rank,
      demand: 0,
      share: 0,
      alive: true,
      bursting: false,
      spent: 0,
      since: this.o.now(),
      claimedAt: this.o.now(),
      throttled: false,
      throttledBefore: false,
      fm: undefined as unknown as FleetMembership,
    };
    m.fm = new FleetMembership({
      leases: this.o.leases,
      scope: "records",
      budget: this.o.budget,
      lifetimeMs: this.o.lifetimeMs,
      deadline: (_op, work) => work,
      metrics: stubMetrics,
      logger: this.logger,
      // As the sidecar's token bucket measures it: records let through since the last claim,
      // and whether any had to wait.
      demand: () => {
        this.settle(m);
        const claim = claimOf(m.spent, (this.o.now() - m.claimedAt) / 1000, m.throttled, {
          share: m.share,
          throttled: m.throttledBefore,
        });
        m.throttledBefore = m.throttled;
        m.spent = 0;
        m.throttled = m.demand > m.share;
        m.claimedAt = this.o.now();
        return claim;
      },
      onShare: (s) => {
        this.settle(m);
        m.share = s;
        if (m.demand > m.share) m.throttled = true;
      },
      random: this.jitter,
    });
    this.members.push(m);
    return m;
  }

  /** Scales base demands so that the live ones sum to baseLoad × budget. */
  rescale(): void {
    const live = this.alive;
    const sum = live.reduce((a, m) => a + 1 / m.rank, 0);
    for (const m of live) m.base = ((1 / m.rank) * this.o.baseLoad * this.o.budget) / sum;
  }

  /** Demand now: base × a noise factor, or the burst's rate for a bursting member. */
  redraw(burstRate: number): void {
    const { noise } = this.o;
    for (const m of this.alive) {
      this.settle(m);
      m.demand = m.bursting ? burstRate : m.base * (1 - noise + 2 * noise * this.rand());
      if (m.demand > m.share) m.throttled = true;
    }
  }

  /** Adds what `m` wrote since `m.since` at its current demand and share. */
  private settle(m: SimMember): void {
    const now = this.o.now();
    m.spent += (Math.min(m.demand, m.share) * (now - m.since)) / 1000;
    m.since = now;
  }

  /** Kills a fraction of the live members at once (crash: no lease release). */
  kill(fraction: number): SimMember[] {
    const live = this.alive;
    const victims: SimMember[] = [];
    for (const m of live) if (this.rand() < fraction) victims.push(m);
    for (const v of victims) v.alive = false;
    return victims;
  }

  sample(t: number): Sample {
    const live = this.alive;
    const fair = fairSplit(
      this.o.budget,
      live.map((m) => m.demand),
    );
    let sumShares = 0;
    let served = 0;
    let fairServed = 0;
    let diff = 0;
    for (const [i, m] of live.entries()) {
      const got = Math.min(m.share, m.demand);
      sumShares += m.share;
      served += got;
      fairServed += fair[i] as number;
      diff += Math.abs(got - (fair[i] as number));
    }
    const s = {
      t,
      members: live.length,
      sumShares,
      served,
      fairServed,
      distance: diff / 2 / this.o.budget,
    };
    this.samples.push(s);
    return s;
  }
}

// How often a fleet member renews, and how long its lease then counts: from the fleet's size (as
// the split document counts it) and the budget, so that the leases cost a fixed share of the budget
// whatever the number of members. Pure: every member derives the same numbers from the same split.

/**
 * How far a renewal period is drawn from its mean, each way: renewals of members that started
 * together drift apart instead of hitting the lease collection at the same moment.
 */
export const RENEWAL_JITTER = 0.2;

/**
 * The share of the budget the fleet's lease operations may take: operations per second at most
 * this fraction of the budget's records per second. The budget is spent one token per document
 * written (record, digest, quarantine entry, deletion); a lease operation writes or reads one small
 * document, so it is counted as one. Lease operations are not spent from the token bucket.
 */
export const LEASE_LOAD_SHARE = 0.02;

/**
 * Lease operations per renewal of a member: its lease write and its read of the split document.
 * The split's writer adds two per renewal (its read of every lease, its write of the split).
 */
export const OPS_PER_RENEWAL = 2;

/**
 * The longest renewal period, ms: past the fleet size that needs more (2,000 members at 10,000
 * records/s), the leases cost more than LEASE_LOAD_SHARE rather than rebalance slower still. A
 * lease then counts for up to about half a minute (leaseLifetimeFor), and lapsed ones keep a
 * floor for two lifetimes: within the splitter's 60 s garbage cut-off.
 */
export const MAX_RENEWAL_PERIOD_MS = 20_000;

/** The shortest mean period, ms: a third of `leaseLifetimeMs`, as in a small fleet. */
export function shortestPeriodMs(leaseLifetimeMs: number): number {
  return Math.floor(leaseLifetimeMs / 3);
}

/**
 * The mean renewal period, ms, of a member of a fleet of `members` sharing `budget` records/s:
 * the shortest (a third of `leaseLifetimeMs`) while the leases cost less than LEASE_LOAD_SHARE of
 * the budget at it, else the period at which `members` × OPS_PER_RENEWAL operations per period
 * are that share, at most MAX_RENEWAL_PERIOD_MS (never below the shortest).
 */
export function renewalPeriodMs(members: number, budget: number, leaseLifetimeMs: number): number {
  const shortest = shortestPeriodMs(leaseLifetimeMs);
  const forLoad = (OPS_PER_RENEWAL * Math.max(1, members) * 1000) / (LEASE_LOAD_SHARE * budget);
  return Math.max(shortest, Math.round(Math.min(MAX_RENEWAL_PERIOD_MS, forLoad)));
}

/**
 * The lifetime, ms, a member renewing every `periodMs` (± RENEWAL_JITTER) declares in its lease:
 * `leaseLifetimeMs` at the shortest period, and as the period grows, its longest jittered draw
 * grows the lifetime by as much. So a renewal may be as late past its longest draw as in a small
 * fleet (at the default 6,000 ms: 3.6 s) whatever the period, and a dead member's lease lapses
 * after about 1.2 periods + that, not 3 periods: 15.6 s at a 10 s period instead of 30 s.
 */
export function leaseLifetimeFor(periodMs: number, leaseLifetimeMs: number): number {
  const longer = Math.max(0, periodMs - shortestPeriodMs(leaseLifetimeMs));
  return Math.round(leaseLifetimeMs + (1 + RENEWAL_JITTER) * longer);
}

/** The longest lifetime a member configured with `leaseLifetimeMs` ever declares. */
export function longestLifetimeMs(leaseLifetimeMs: number): number {
  const longest = Math.max(shortestPeriodMs(leaseLifetimeMs), MAX_RENEWAL_PERIOD_MS);
  return leaseLifetimeFor(longest, leaseLifetimeMs);
}

/** A period drawn within ± RENEWAL_JITTER of `periodMs`, `u` uniform in [0, 1). */
export function jittered(periodMs: number, u: number): number {
  return Math.round(periodMs * (1 - RENEWAL_JITTER + 2 * RENEWAL_JITTER * u));
}

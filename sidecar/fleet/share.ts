// How a fleet's write budget is split among its members: pure arithmetic, the same in every member.

/**
 * What a member asks for, in records per second: `null` when it has more to write than its
 * share lets it (busy: as much as it can get), else the rate it wrote at lately times
 * DEMAND_HEADROOM, so that a light load can grow a little before the member counts as busy.
 */
export type Claim = number | null;

export interface Member {
  id: string;
  claim: Claim;
}

/** Head room on a measured rate: a member writing 100/s claims 125/s. */
export const DEMAND_HEADROOM = 1.25;

/**
 * The least any member gets, as a fraction of an equal share: an idle member can start writing
 * at once, at a rate small enough for the whole fleet's floors to fit in a twentieth of the budget.
 */
export const FLOOR_FRACTION = 1 / 20;

/** Whether claim `a` asks for more than `b` (null: as much as there is). */
export function looser(a: Claim, b: Claim): boolean {
  return b !== null && (a === null || a > b);
}

/**
 * What a member throttled for the first time in a row asks for, as a multiple of its share: a
 * bounded raise instead of everything. Demand that moves a little past the headroom for a moment
 * (noise) then takes twice its share, not the water level; a member throttled at two renewals in
 * a row (a burst) claims everything from the second.
 */
export const THROTTLED_RAISE = 2;

/** The member's previous renewal: the share it had, and whether it was throttled then. */
export interface LastClaim {
  share: number;
  throttled: boolean;
}

/**
 * Claim of a member that spent tokens for `spent` records in `seconds`, and waited for them or
 * not: its rate × DEMAND_HEADROOM when it never waited; when it waited, everything (null) if it
 * also waited at its previous renewal (or `last` is not known), else THROTTLED_RAISE × its share
 * (at least its rate × DEMAND_HEADROOM).
 */
export function claimOf(
  spent: number,
  seconds: number,
  throttled: boolean,
  last?: LastClaim,
): Claim {
  const rate = seconds > 0 ? (spent / seconds) * DEMAND_HEADROOM : 0;
  if (!throttled) return rate;
  if (last === undefined || last.throttled) return null;
  return Math.max(rate, last.share * THROTTLED_RAISE);
}

/**
 * A max-min fair split of a budget, as numbers every member can apply to its own claim: the
 * whole split in one small document, whatever the number of members.
 */
export interface Split {
  /** The budget split, records per second. */
  budget: number;
  /** Members split among. */
  count: number;
  /** The least any member gets. */
  floor: number;
  /**
   * The water level: a member gets its ask (its claim, at least the floor) up to this. When
   * every ask fits below an equal share, the largest ask.
   */
  level: number;
  /** What nobody asks for, spread evenly: added to every member's share. */
  bonus: number;
}

/**
 * Max-min fair split of `budget` among `members`: claims below the equal share are granted (but
 * never less than the floor), busy members split the rest equally, and whatever nobody claims
 * is spread evenly so that the shares always add up to the budget. `reserved` more members (whose
 * leases lapsed lately) count in the floor, and keep one floor each, no more. Deterministic: the
 * same numbers from the same claims, in any order.
 */
export function splitOf(budget: number, members: readonly Member[], reserved = 0): Split {
  const count = members.length + reserved;
  const floor = count === 0 ? budget * FLOOR_FRACTION : (budget / count) * FLOOR_FRACTION;
  const asks = members
    .map((m) => (m.claim === null ? Number.POSITIVE_INFINITY : Math.max(floor, m.claim)))
    .sort((a, b) => a - b);
  let left = budget - reserved * floor;
  for (const [i, ask] of asks.entries()) {
    const even = left / (asks.length - i);
    // From the first ask above what is left evenly, every member gets that much: the level.
    if (ask > even) return { budget, count, floor, level: even, bonus: 0 };
    left -= ask;
  }
  return {
    budget,
    count,
    floor,
    level: asks.at(-1) ?? floor,
    bonus: asks.length === 0 ? 0 : left / asks.length,
  };
}

/** The share of a member that claimed `claim` (or less) in `split`. */
export function shareUnder(split: Split, claim: Claim): number {
  const ask = claim === null ? Number.POSITIVE_INFINITY : Math.max(split.floor, claim);
  return Math.min(ask, split.level) + split.bonus;
}

/** Each member's share in the max-min fair split of `budget` (splitOf), by id. */
export function splitBudget(budget: number, members: readonly Member[]): Map<string, number> {
  const split = splitOf(budget, members);
  return new Map(members.map((m) => [m.id, shareUnder(split, m.claim)]));
}

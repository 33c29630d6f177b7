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

/** Claim of a member that spent tokens for `spent` records in `seconds`, and waited for them or not. */
export function claimOf(spent: number, seconds: number, throttled: boolean): Claim {
  if (throttled) return null;
  return seconds > 0 ? (spent / seconds) * DEMAND_HEADROOM : 0;
}

/**
 * Max-min fair split of `budget` among `members`: claims below the equal share are granted (but
 * never less than the floor), busy members split the rest equally, and whatever nobody claims
 * is spread evenly so that the shares always add up to the budget. Deterministic: every member
 * computing it from the same leases gets the same numbers.
 */
export function splitBudget(budget: number, members: readonly Member[]): Map<string, number> {
  const shares = new Map<string, number>();
  if (members.length === 0) return shares;
  const floor = (budget / members.length) * FLOOR_FRACTION;
  const asks = members
    .map((m) => ({
      id: m.id,
      ask: m.claim === null ? Number.POSITIVE_INFINITY : Math.max(floor, m.claim),
    }))
    .sort((a, b) => a.ask - b.ask || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  let left = budget;
  for (const [i, { id, ask }] of asks.entries()) {
    const granted = Math.min(ask, left / (asks.length - i));
    shares.set(id, granted);
    left -= granted;
  }
  if (left > 0) {
    for (const [id, share] of shares) shares.set(id, share + left / shares.size);
  }
  return shares;
}

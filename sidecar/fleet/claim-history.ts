// The claims one fleet member published with its lease renewals, and which of them a split
// counted: what the member may apply under that split (lease.ts).
import type { Claim } from "./share.js";
import type { SplitDoc } from "./split-doc.js";

/** Claims published, kept while a split may still have read them. */
const MAX_HISTORY = 16;

/** A claim this member published, when (server clock), and the lifetime its lease declared. */
export interface Published {
  claim: Claim;
  at: number;
  lifetimeMs: number;
}

export class ClaimHistory {
  /** Oldest first. */
  private published: Published[] = [];

  publish(p: Published): void {
    this.published.push(p);
  }

  /**
   * The claim this member applies under `split`, or undefined when the split may not have counted
   * it. The claim is the one the split read, or a lower one published since: a lowered claim
   * applies at once, a raised one only at a split that read it. Which claim a split read is known
   * by time: a split reads after `readAt`, so it read the last claim published before `readAt`,
   * or the one before that (whose write it may not have seen yet; the writes of one member follow
   * each other). So: the lowest claim from that one before on. Not counted: no such claim (too
   * new), or its lease had lapsed at `readAt`. A stale split is used the same way: its shares
   * never grow, raises wait for a new one, and the first member to see its lock lapse writes the
   * next. `ownFresh`: this member wrote `split` right after its last lease write, and may apply
   * that claim (its first, a claim of everything, only when alone).
   */
  under(split: SplitDoc, ownFresh: boolean): Claim | undefined {
    const readAt = split.readAt.getTime();
    const h = this.published;
    let from: number;
    if (ownFresh && h.at(-1)?.at === readAt) {
      // The split this member wrote just now, after its own lease write.
      from = h.length - 1;
    } else {
      let j = -1;
      for (let i = 0; i < h.length; i++) if ((h[i] as Published).at < readAt) j = i;
      from = j - 1;
    }
    const oldest = h[from];
    // Claims before the one the split read are not needed again; at most MAX_HISTORY are kept.
    this.published = h.slice(Math.max(0, from, h.length - MAX_HISTORY));
    if (oldest === undefined) return undefined;
    // Counted only if the lease the split read was live at `readAt`, by the lifetime it declared
    // (periods, hence lifetimes, change with the fleet's size) up to the split writer's own, as
    // the writer judged it: the last before `readAt`, or the one before it while that write was
    // in flight, so that one is checked live until the last was stamped. (Checked at `readAt`,
    // it would have lapsed: a lifetime is shorter than two periods in a large fleet.) Left
    // unchecked: a write in flight past the lifetime's slack (3.6 s by default) across the
    // split's read, after a late renewal: one member's share for one split.
    const lives = (p: Published | undefined, at: number) =>
      p !== undefined && p.at + Math.min(p.lifetimeMs, split.lifetimeMs) > at;
    const last = h[from + 1];
    const lastSeen = last !== undefined && last.at < readAt ? last : undefined;
    if (
      lastSeen === undefined
        ? !lives(oldest, readAt)
        : !lives(lastSeen, readAt) || !lives(oldest, lastSeen.at)
    ) {
      return undefined;
    }
    let claim: Claim = oldest.claim;
    for (const p of h.slice(from)) {
      if (claim === null || (p.claim !== null && p.claim < claim)) claim = p.claim;
    }
    return claim;
  }
}

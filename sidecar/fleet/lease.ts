// Membership of the fleet of sidecars writing to one collection, through lease documents.
// Each member holds a lease, renews it, and reads the others' to compute its share of the fleet's
// write budget.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Collection } from "mongodb";
import type { Logger } from "../../shared/util/logger.js";
import type { SidecarMetrics } from "../config/metrics.js";
import type { Deadline } from "../write/deadline.js";
import { LEASE_CLOCK_SKEW_MS, type LeaseDoc, liveLeases } from "./lease-check.js";
import { OncePerId } from "./once-per-id.js";
import { type Claim, looser, type Member, splitBudget } from "./share.js";

export type { LeaseDoc } from "./lease-check.js";

/**
 * Leases renewed this long before the server's clock, or stamped this far after it, are deleted
 * by whoever renews next.
 */
const GARBAGE_AFTER_MS = 60_000;

/** Most lease documents one renewal reads: a collection flooded with leases costs no more. */
const MAX_LEASES_READ = 1_000;

/** How often the same lease is complained about (invalid, or another budget) in the log. */
const COMPLAINT_EVERY_MS = 600_000;

export interface FleetDeps {
  leases: Collection<LeaseDoc>;
  scope: string;
  budget: number;
  lifetimeMs: number;
  deadline: Deadline;
  metrics: SidecarMetrics;
  logger: Logger;
  /** What this sidecar asks for now; called once per renewal. */
  demand(): Claim;
  /** This sidecar's new share, in records per second. */
  onShare(recordsPerSecond: number): void;
}

export class FleetMembership {
  readonly id = `${hostname()}-${process.pid}-${randomBytes(4).toString("hex")}`;
  /** The claim published last, and when (server clock) it was last raised. */
  private asked: { claim: Claim; at: number } = { claim: 0, at: 0 };
  /** The claim this sidecar computes its share by: what the others have all seen, or lower. */
  private granted: Claim = 0;
  private members = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> | undefined;
  private leaving = false;
  private renewals = 0;
  /** The others of the last renewal's split, with their claims, and its server time. */
  private lastSplit: { at: number; others: Map<string, Claim> } | undefined;
  private readonly complaints = new OncePerId(COMPLAINT_EVERY_MS);

  constructor(private readonly d: FleetDeps) {}

  get renewEveryMs(): number {
    return Math.floor(this.d.lifetimeMs / 3);
  }

  /**
   * Publishes this sidecar's claim, reads the live leases and sets its share. Throws when the
   * lease collection cannot be reached (the share then stays as it was).
   */
  async renew(): Promise<void> {
    const { leases, deadline } = this.d;
    const measured = this.d.demand();
    // A sidecar that just started claims everything: it is usually started for load, and its
    // claim is only applied at its next renewal anyway (below), which is then "within one renewal".
    const claim = this.renewals++ === 0 ? null : measured;
    const mine = await deadline(
      "lease renewal",
      leases.findOneAndUpdate(
        { _id: this.id },
        {
          $currentDate: { renewedAt: true },
          $set: {
            scope: this.d.scope,
            budget: this.d.budget,
            claim,
            lifetimeMs: this.d.lifetimeMs,
            host: hostname(),
            pid: process.pid,
          },
        },
        { upsert: true, returnDocument: "after" },
      ),
    );
    if (mine === null || !(mine.renewedAt instanceof Date)) {
      throw new Error("lease renewal returned no lease with a renewal time");
    }
    const now = mine.renewedAt.getTime();
    // Whoever can write the collection may have written any of these: only valid leases count,
    // and only while younger than their lifetime (or ours, if shorter) by the server's clock.
    const all: unknown[] = await deadline(
      "lease read",
      leases
        .find({ scope: this.d.scope, _id: { $ne: this.id } })
        .limit(MAX_LEASES_READ)
        .toArray(),
    );
    const { live: others, invalid } = liveLeases(all, now, this.d.lifetimeMs);
    this.reportInvalid(invalid, now);
    const unread = all.length < MAX_LEASES_READ ? 0 : await this.countUnread(now, others.length);
    const live = [mine, ...others];
    // A raised claim is applied only once every other live member has renewed since it was
    // published (by the server's clock), so has seen it and made room: normally at the next
    // renewal. A lowered claim is applied at once. So a raise never makes the fleet overshoot.
    this.asked = { claim, at: looser(claim, this.asked.claim) ? now : this.asked.at };
    const seen = live.every((l) => l._id === this.id || l.renewedAt.getTime() > this.asked.at);
    this.granted = seen || !looser(claim, this.granted) ? claim : this.granted;
    const members: Member[] = live.map((l) => ({
      id: l._id,
      claim: l._id === this.id ? this.granted : l.claim,
    }));
    // The leases past MAX_LEASES_READ count too, each claiming what a read one claims (spread
    // over all of them): a truncated view must not split the budget among 1,001 members of 1,100
    // (+4 % over 5 s in bench:fleet-scale). Counting them busy left 40 % of the budget unused.
    for (let i = 0; i < unread; i++) {
      const like = others[Math.floor((i * others.length) / unread)];
      members.push({ id: `\u0000unread-${i}`, claim: like === undefined ? null : like.claim });
    }
    this.keepLapsedWhenLate(members, now);
    // The budget is this member's own: a lease's budget is someone's word (see docs/sidecar.md).
    const budget = this.d.budget;
    this.reportOtherBudgets(others, now);
    const share = splitBudget(budget, members).get(this.id);
    // A bucket at rate 0 has no limit: a share that is not a positive number is a bug, not a share.
    if (share === undefined || !(share > 0) || !Number.isFinite(share)) {
      throw new Error(`fleet share out of range: ${share} of ${budget} among ${live.length}`);
    }
    this.d.onShare(share);
    this.d.metrics.fleetMembers.set(live.length + unread);
    this.d.metrics.fleetBudget.set(budget);
    this.noteMembership(
      live.map((l) => l._id),
      share,
      budget,
    );
    await deadline(
      "lease cleanup",
      leases.deleteMany({
        scope: this.d.scope,
        $or: [
          { renewedAt: { $lt: new Date(now - GARBAGE_AFTER_MS) } },
          { renewedAt: { $gt: new Date(now + GARBAGE_AFTER_MS) } },
        ],
      }),
    );
  }

  /** Renews every third of the lifetime until leave(); failures keep the last share. */
  start(): void {
    const tick = () => {
      if (this.leaving) return;
      this.renewing = this.renew()
        .catch((err: unknown) => {
          this.d.metrics.errors.inc({ stage: "lease" });
          this.d.logger.warn({ err }, "cannot renew the fleet lease; keeping the last share");
        })
        .finally(() => {
          this.renewing = undefined;
          if (!this.leaving) {
            this.timer = setTimeout(tick, this.renewEveryMs);
            this.timer.unref();
          }
        });
    };
    this.timer = setTimeout(tick, this.renewEveryMs);
    this.timer.unref();
  }

  /** Leaves the fleet: stops renewing and deletes the lease, so that the others share its part at their next renewal. */
  async leave(): Promise<void> {
    this.leaving = true;
    clearTimeout(this.timer);
    await this.renewing;
    try {
      await this.d.deadline("lease release", this.d.leases.deleteOne({ _id: this.id }));
      this.d.logger.info({ member: this.id }, "released the fleet lease");
    } catch (err) {
      this.d.metrics.errors.inc({ stage: "lease" });
      this.d.logger.warn({ err }, "cannot release the fleet lease; it lapses by itself");
    }
  }

  /**
   * A renewal later than a lifetime after the previous one means lease operations are slow: the
   * leases that lapsed meanwhile are as likely slow as dead, and dropping them would raise this
   * member's share past the budget (FerretDB at 100 members: +55 % over 5 s). So the members of
   * the previous split that are missing now are kept, with their last claims, until a renewal is
   * on time again. Adds them to `members`; remembers this split.
   */
  private keepLapsedWhenLate(members: Member[], now: number): void {
    const last = this.lastSplit;
    if (last !== undefined && now - last.at > this.d.lifetimeMs) {
      const present = new Set(members.map((m) => m.id));
      for (const [id, claim] of last.others) if (!present.has(id)) members.push({ id, claim });
    }
    const others = new Map<string, Claim>();
    for (const m of members) if (m.id !== this.id) others.set(m.id, m.claim);
    this.lastSplit = { at: now, others };
  }

  /**
   * How many other leases renewed within this member's lifetime were not among the `read` live
   * ones: the renewal read MAX_LEASES_READ and stopped. One count, only in a fleet that large.
   */
  private async countUnread(now: number, read: number): Promise<number> {
    const total = await this.d.deadline(
      "lease count",
      this.d.leases.countDocuments({
        scope: this.d.scope,
        _id: { $ne: this.id },
        renewedAt: {
          $gt: new Date(now - this.d.lifetimeMs),
          $lte: new Date(now + LEASE_CLOCK_SKEW_MS),
        },
      }),
    );
    return Math.max(0, total - read);
  }

  /** Counts the invalid leases read, and logs each once per COMPLAINT_EVERY_MS. */
  private reportInvalid(invalid: readonly { id: string; reason: string }[], now: number): void {
    if (invalid.length === 0) return;
    this.d.metrics.fleetInvalidLeases.inc(invalid.length);
    for (const { id, reason } of invalid) {
      if (this.complaints.due(`invalid:${id}`, now)) {
        this.d.logger.warn({ lease: id, reason }, "ignoring an invalid fleet lease");
      }
    }
  }

  /** Logs, once per COMPLAINT_EVERY_MS, each live lease that was configured with another budget. */
  private reportOtherBudgets(others: readonly LeaseDoc[], now: number): void {
    for (const l of others) {
      if (l.budget !== this.d.budget && this.complaints.due(`budget:${l._id}`, now)) {
        this.d.logger.warn(
          { lease: l._id, host: l.host, itsBudget: l.budget, budget: this.d.budget },
          "a fleet member has another maxWriteRate; this sidecar keeps to its own",
        );
      }
    }
  }

  private noteMembership(ids: string[], share: number, budget: number): void {
    const now = new Set(ids);
    const joined = ids.filter((id) => !this.members.has(id));
    const left = [...this.members].filter((id) => !now.has(id));
    this.members = now;
    if (joined.length > 0 || left.length > 0) {
      this.d.logger.info(
        { members: now.size, joined, left, share: Math.round(share * 100) / 100, budget },
        "fleet membership changed",
      );
    }
  }
}

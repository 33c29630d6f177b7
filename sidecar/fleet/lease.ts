// Membership of the fleet of sidecars writing to one collection, through lease documents and one
// split document (the two-level split). Each member renews its own lease and reads the split; the
// member holding the split's lock also reads every lease and writes the split (splitter.ts).
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Collection } from "mongodb";
import type { Logger } from "../../shared/util/logger.js";
import type { SidecarMetrics } from "../config/metrics.js";
import type { Deadline } from "../write/deadline.js";
import { ClaimHistory } from "./claim-history.js";
import { LEASE_CLOCK_SKEW_MS, type LeaseDoc, liveLeaseFilter } from "./lease-check.js";
import { OncePerId } from "./once-per-id.js";
import {
  jittered,
  leaseLifetimeFor,
  longestLifetimeMs,
  renewalPeriodMs,
  shortestPeriodMs,
} from "./period.js";
import { type Claim, FLOOR_FRACTION, shareUnder } from "./share.js";
import { checkSplit, type SplitDoc, splitId } from "./split-doc.js";
import { type SeenSplit, Splitter } from "./splitter.js";

export type { LeaseDoc } from "./lease-check.js";

/** How often an invalid or stale split document is complained about in the log. */
const COMPLAINT_EVERY_MS = 600_000;

export interface FleetDeps {
  leases: Collection<LeaseDoc>;
  scope: string;
  budget: number;
  /**
   * `leaseLifetimeMs`: the lifetime in a small fleet, renewed every third of it; a larger fleet
   * renews less often and declares a longer lifetime (period.ts).
   */
  lifetimeMs: number;
  deadline: Deadline;
  metrics: SidecarMetrics;
  logger: Logger;
  /** What this sidecar asks for now; called once per renewal. */
  demand(): Claim;
  /** This sidecar's new share, in records per second. */
  onShare(recordsPerSecond: number): void;
  /** Uniform in [0, 1): draws the jitter of each renewal period. */
  random?: () => number;
}

export class FleetMembership {
  readonly id = `${hostname()}-${process.pid}-${randomBytes(4).toString("hex")}`;
  /** The claims published lately. */
  private readonly claims = new ClaimHistory();
  private timer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> | undefined;
  private leaving = false;
  private renewals = 0;
  private readonly splitter: Splitter;
  private readonly complaints = new OncePerId(COMPLAINT_EVERY_MS);
  /** The period the fleet's size asks for, from the last split read (period.ts). */
  private targetPeriodMs: number;
  /** The period whose lifetime the last lease write declared: no renewal may come later. */
  private declaredPeriodMs: number;
  /** The mean of the next renewal's period: the target, once a lease write declared it. */
  private periodMs: number;
  /** The longest lifetime this member ever declares: a split's lock counts no longer. */
  private readonly maxLifetimeMs: number;

  constructor(private readonly d: FleetDeps) {
    this.periodMs = shortestPeriodMs(d.lifetimeMs);
    this.targetPeriodMs = this.periodMs;
    this.declaredPeriodMs = this.periodMs;
    this.maxLifetimeMs = longestLifetimeMs(d.lifetimeMs);
    this.splitter = new Splitter({
      leases: d.leases,
      scope: d.scope,
      budget: d.budget,
      id: this.id,
      deadline: d.deadline,
      metrics: d.metrics,
      logger: d.logger,
    });
  }

  /**
   * The mean time to the next renewal: a third of `leaseLifetimeMs` in a small fleet, longer as
   * the split counts more members (renewalPeriodMs). A longer one applies from the renewal after
   * the one that saw it, whose lease declares the lifetime it needs; a shorter one at once.
   */
  get renewalPeriodMs(): number {
    return this.periodMs;
  }

  /** The time to the next renewal: the period, ± RENEWAL_JITTER of it, drawn anew each time. */
  nextRenewalInMs(): number {
    return jittered(this.periodMs, (this.d.random ?? Math.random)());
  }

  /**
   * Publishes this sidecar's claim, reads the split (writing it first when this member holds
   * its lock, or the lock lapsed) and sets its share. Throws when the lease collection cannot be
   * reached (the share then stays as it was).
   */
  async renew(): Promise<void> {
    const { leases, deadline } = this.d;
    const measured = this.d.demand();
    // A sidecar that just started claims everything: the split then keeps room for it, and its
    // claim is used only through later ones (see claimUnder).
    const claim = this.renewals++ === 0 ? null : measured;
    const declaring = this.targetPeriodMs;
    const lifetimeMs = leaseLifetimeFor(declaring, this.d.lifetimeMs);
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
            lifetimeMs,
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
    this.claims.publish({ claim, at: now, lifetimeMs });
    this.declaredPeriodMs = declaring;
    const raw: unknown = await deadline(
      "split read",
      (leases as unknown as Collection<SplitDoc>).findOne({ _id: splitId(this.d.scope) }),
    );
    let split = this.checked(raw, now);
    if (this.mayWrite(split, now)) {
      const seen: SeenSplit =
        raw === null
          ? { kind: "none" }
          : split === undefined
            ? { kind: "invalid" }
            : { kind: "valid", version: split.version };
      split = (await this.splitter.write(now, seen, lifetimeMs)) ?? (await this.reread(now));
    }
    if (split === undefined) {
      throw new Error("no valid fleet split to share by: another member is writing the first");
    }
    this.adoptPeriod(split.count);
    const share = await this.shareOf(split, now);
    // A bucket at rate 0 has no limit: a share that is not a positive number is a bug, not a share.
    if (!(share > 0) || !Number.isFinite(share)) {
      throw new Error(`fleet share out of range: ${share} of ${this.d.budget}`);
    }
    this.d.onShare(share);
    this.d.metrics.fleetMembers.set(split.live);
    this.d.metrics.fleetBudget.set(this.d.budget);
  }

  /** Renews every period (jittered) until leave(); failures keep the last share. */
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
            this.timer = setTimeout(tick, this.nextRenewalInMs());
            this.timer.unref();
          }
        });
    };
    this.timer = setTimeout(tick, this.nextRenewalInMs());
    this.timer.unref();
  }

  /**
   * Leaves the fleet: stops renewing, deletes the lease and gives up the split's lock, so that
   * the others share its part at the next split.
   */
  async leave(): Promise<void> {
    this.leaving = true;
    clearTimeout(this.timer);
    await this.renewing;
    try {
      await this.d.deadline("lease release", this.d.leases.deleteOne({ _id: this.id }));
      await this.splitter.release();
      this.d.logger.info({ member: this.id }, "released the fleet lease");
    } catch (err) {
      this.d.metrics.errors.inc({ stage: "lease" });
      this.d.logger.warn({ err }, "cannot release the fleet lease; it lapses by itself");
    }
  }

  /**
   * Sets the period for a fleet of `members` (the split's count: live leases and the ones that
   * lapsed lately). Longer only up to the period whose lifetime the last lease write declared.
   */
  private adoptPeriod(members: number): void {
    this.targetPeriodMs = renewalPeriodMs(members, this.d.budget, this.d.lifetimeMs);
    this.periodMs = Math.min(this.targetPeriodMs, this.declaredPeriodMs);
  }

  /** The split another member wrote while this one tried to. */
  private async reread(now: number): Promise<SplitDoc | undefined> {
    const splits = this.d.leases as unknown as Collection<SplitDoc>;
    const raw = await this.d.deadline("split read", splits.findOne({ _id: splitId(this.d.scope) }));
    return this.checked(raw, now);
  }

  /** The split read, if valid; an invalid one is logged once per COMPLAINT_EVERY_MS. */
  private checked(raw: unknown, now: number): SplitDoc | undefined {
    if (raw === null) return undefined;
    const verdict = checkSplit(raw);
    if (verdict.valid) return verdict.split;
    if (this.complaints.due("invalid split", now)) {
      this.d.logger.warn(
        { reason: verdict.reason },
        "ignoring an invalid fleet split; rewriting it",
      );
    }
    return undefined;
  }

  /**
   * Whether this member writes the split now: there is none (or none valid), it holds the lock,
   * or the lock lapsed (its holder wrote nothing for a lifetime: dead, or too slow to split; or
   * it is stamped in the future).
   */
  private mayWrite(split: SplitDoc | undefined, now: number): boolean {
    if (split === undefined || split.holder === this.id) return true;
    // The holder's lease lifetime, believed no longer than the longest a member declares.
    const lifetime = Math.min(split.lifetimeMs, this.maxLifetimeMs);
    // Stamped in the future of the server's clock, a lock would never lapse: taken over too.
    const at = split.lockedAt.getTime();
    const lapsed = at + lifetime <= now || at > now + LEASE_CLOCK_SKEW_MS;
    if (lapsed && this.complaints.due(`stale split:${split.holder}`, now)) {
      this.d.logger.warn(
        { holder: split.holder, host: split.host, lockedAt: split.lockedAt },
        "the fleet split is stale; taking it over",
      );
    }
    return lapsed;
  }

  /**
   * This member's share under `split` at server time `now`. One the split did not count gets the
   * floor of an equal share among every live lease, itself included (one count: members that
   * joined since the split, all at once when a fleet starts, each take a floor), which the split
   * also keeps for a lease that lapsed.
   */
  private async shareOf(split: SplitDoc, now: number): Promise<number> {
    // The budget is this member's own: a split written with another is scaled down, never up.
    const scale = Math.min(1, this.d.budget / split.budget);
    // Written by this member just now, after its own lease write; but a first claim (busy, to
    // make room) is applied only alone: among others a member starts at its floor.
    const ownFresh = split.holder === this.id && (this.renewals > 1 || split.live === 1);
    const claim = this.claims.under(split, ownFresh);
    if (claim !== undefined) return shareUnder(split, claim) * scale;
    const live = await this.d.deadline(
      "lease count",
      this.d.leases.countDocuments(
        liveLeaseFilter(
          this.d.scope,
          now,
          leaseLifetimeFor(this.declaredPeriodMs, this.d.lifetimeMs),
        ),
      ),
    );
    return (split.budget / Math.max(split.count + 1, live)) * FLOOR_FRACTION * scale;
  }
}

// The retention sweeper's lease: one document in the lease collection that at most one sidecar
// of the fleet holds at a time, judged on the server's clock. Whoever holds it sweeps.
//
// The lease saves work; it is not what makes retention safe. If a holder stalls past its
// lifetime and another takes over, both sweep for a moment: each deletes only records below its
// own cut-off and not held, and each spends its own token bucket, whose rate is its share of the
// fleet's budget, so the fleet stays within it.
import { hostname } from "node:os";
import type { Collection } from "mongodb";
import { DUPLICATE_KEY, isServerError } from "../config/mongo-shape.js";
import { LEASE_LIFETIME_MS } from "../fleet/lease-check.js";
import type { Deadline } from "../write/deadline.js";

/** The sweeper lease as stored (not a fleet lease: its `scope` keeps it out of the share). */
export interface SweeperLeaseDoc {
  _id: string;
  scope: string;
  holder?: string | null;
  renewedAt?: Date | null;
  lifetimeMs?: number;
  /** The server's clock when someone last looked (the only way to read it without a command). */
  checkedAt?: Date;
  host?: string;
  pid?: number;
}

export interface SweeperLeaseDeps {
  leases: Collection<SweeperLeaseDoc>;
  /** The records' collection swept. */
  collection: string;
  /** This sidecar's id in the fleet. */
  holder: string;
  lifetimeMs: number;
  deadline: Deadline;
}

export class SweeperLease {
  private readonly id: string;
  private renewedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly d: SweeperLeaseDeps) {
    this.id = `retention:${d.collection}`;
  }

  /**
   * Takes the lease if it is free, lapsed or already ours. Resolves to the server's clock (ms)
   * when this sidecar holds it, undefined when another does.
   */
  async acquire(): Promise<number | undefined> {
    const { leases, deadline } = this.d;
    const look = () =>
      deadline(
        "retention lease read",
        leases.findOneAndUpdate(
          { _id: this.id },
          { $currentDate: { checkedAt: true }, $setOnInsert: { scope: this.id } },
          { upsert: true, returnDocument: "after" },
        ),
      );
    // Two sidecars upserting the first lease at once: one insert loses on the _id, and the
    // document it lost to is there to read.
    const seen = await look().catch((err: unknown) => {
      if (isServerError(err) && err.code === DUPLICATE_KEY) return look();
      throw err;
    });
    if (seen === null || !(seen.checkedAt instanceof Date)) {
      throw new Error("retention lease read returned no server time");
    }
    const holder = seen.holder ?? null;
    const renewedAt = seen.renewedAt instanceof Date ? seen.renewedAt : null;
    // Another holder's lifetime counts when it is a valid one; else ours.
    const lifetime =
      Number.isInteger(seen.lifetimeMs) &&
      (seen.lifetimeMs as number) >= LEASE_LIFETIME_MS.min &&
      (seen.lifetimeMs as number) <= LEASE_LIFETIME_MS.max
        ? (seen.lifetimeMs as number)
        : this.d.lifetimeMs;
    const free =
      holder === null ||
      holder === this.d.holder ||
      renewedAt === null ||
      renewedAt.getTime() + lifetime <= seen.checkedAt.getTime();
    if (!free) return undefined;
    // Compare-and-set on what was read: of two sidecars that saw it free, one wins.
    const taken = await deadline(
      "retention lease take",
      leases.updateOne(
        { _id: this.id, holder, renewedAt },
        {
          $set: {
            holder: this.d.holder,
            lifetimeMs: this.d.lifetimeMs,
            host: hostname(),
            pid: process.pid,
          },
          $currentDate: { renewedAt: true },
        },
      ),
    );
    if (taken.matchedCount !== 1) return undefined;
    this.renewedAt = Date.now();
    return seen.checkedAt.getTime();
  }

  /**
   * Renews the lease when a third of its lifetime has passed since the last renewal; says
   * whether this sidecar still holds it (false: another took it over, stop sweeping).
   */
  async keep(): Promise<boolean> {
    if (Date.now() - this.renewedAt < this.d.lifetimeMs / 3) return true;
    const { matchedCount } = await this.d.deadline(
      "retention lease renewal",
      this.d.leases.updateOne(
        { _id: this.id, holder: this.d.holder },
        { $currentDate: { renewedAt: true } },
      ),
    );
    if (matchedCount === 1) this.renewedAt = Date.now();
    return matchedCount === 1;
  }

  /** Gives the lease up (if still ours), so that any sidecar may take the next sweep. */
  async release(): Promise<void> {
    this.renewedAt = Number.NEGATIVE_INFINITY;
    await this.d.deadline(
      "retention lease release",
      this.d.leases.updateOne(
        { _id: this.id, holder: this.d.holder },
        { $set: { holder: null, renewedAt: null } },
      ),
    );
  }
}

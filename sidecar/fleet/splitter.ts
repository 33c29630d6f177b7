// The elected member's part of the two-level split: reads every lease once per renewal, and
// writes the one split document every member reads, as a compare-and-set on the version it read.
import { hostname } from "node:os";
import type { Collection } from "mongodb";
import type { Logger } from "../../shared/util/logger.js";
import type { SidecarMetrics } from "../config/metrics.js";
import { DUPLICATE_KEY, isServerError } from "../config/mongo-shape.js";
import type { Deadline } from "../write/deadline.js";
import { type LeaseDoc, liveLeaseFilter, liveLeases } from "./lease-check.js";
import { OncePerId } from "./once-per-id.js";
import { type Member, splitOf } from "./share.js";
import { type SplitDoc, splitId } from "./split-doc.js";

/**
 * Leases renewed this long before the server's clock, or stamped this far after it, are deleted
 * by the splitter.
 */
const GARBAGE_AFTER_MS = 60_000;

/** Most lease documents one split reads: a collection flooded with leases costs no more. */
const MAX_LEASES_READ = 10_000;

/** How often the same lease is complained about (invalid, or another budget) in the log. */
const COMPLAINT_EVERY_MS = 600_000;

export interface SplitterDeps {
  /** The lease collection, which also holds the split document. */
  leases: Collection<LeaseDoc>;
  scope: string;
  budget: number;
  /** The member writing: holder of the lock while its splits are younger than its lifetime. */
  id: string;
  deadline: Deadline;
  metrics: SidecarMetrics;
  logger: Logger;
}

/** What the split document held when this member read it, to replace by compare-and-set. */
export type SeenSplit = { kind: "none" } | { kind: "valid"; version: number } | { kind: "invalid" };

export class Splitter {
  private members = new Set<string>();
  private readonly complaints = new OncePerId(COMPLAINT_EVERY_MS);

  constructor(private readonly d: SplitterDeps) {}

  /**
   * Reads the leases at server time `now` (stamped by this member's own lease write, which
   * finished before the read, declaring `lifetimeMs`: the split's lock lapses after it, and no
   * lease counts longer, whatever it declares) and writes the split, replacing `seen`. Undefined
   * when another member wrote it first (this one then uses what it read).
   */
  async write(now: number, seen: SeenSplit, lifetimeMs: number): Promise<SplitDoc | undefined> {
    const { leases, deadline, scope } = this.d;
    const all: unknown[] = await deadline(
      "lease read",
      leases.find({ scope }).limit(MAX_LEASES_READ).toArray(),
    );
    const { live, lapsed, invalid } = liveLeases(all, now, lifetimeMs);
    this.reportInvalid(invalid, now);
    this.reportOtherBudgets(live, now);
    // A lease that lapsed less than a lifetime ago keeps a floor: its member may be slow rather
    // than dead, and when it renews it knows the split did not count it and keeps to that floor.
    const recent = lapsed.filter(
      (l) => l.renewedAt.getTime() + 2 * Math.min(l.lifetimeMs, lifetimeMs) > now,
    );
    const members: Member[] = live.map((l) => ({ id: l._id, claim: l.claim }));
    // Past MAX_LEASES_READ, each live lease not read counts as busy: its member believes itself
    // counted and takes up to the level, so the split must have kept that much for it.
    const unread =
      all.length < MAX_LEASES_READ ? 0 : await this.countUnread(now, live.length, lifetimeMs);
    for (let i = 0; i < unread; i++) members.push({ id: `\u0000unread-${i}`, claim: null });
    const split = splitOf(this.d.budget, members, recent.length);
    const doc: SplitDoc = {
      _id: splitId(scope),
      scope: splitId(scope),
      holder: this.d.id,
      lifetimeMs,
      lockedAt: new Date(now),
      version: seen.kind === "valid" ? seen.version + 1 : 1,
      readAt: new Date(now),
      ...split,
      live: live.length + unread,
      host: hostname(),
      pid: process.pid,
    };
    if (!(await this.replace(doc, seen))) return undefined;
    this.noteMembership(live.map((l) => l._id));
    if (
      all.some(
        (l) =>
          (l as Partial<LeaseDoc>).renewedAt instanceof Date &&
          Math.abs((l as LeaseDoc).renewedAt.getTime() - now) > GARBAGE_AFTER_MS,
      )
    ) {
      await deadline(
        "lease cleanup",
        leases.deleteMany({
          scope,
          $or: [
            { renewedAt: { $lt: new Date(now - GARBAGE_AFTER_MS) } },
            { renewedAt: { $gt: new Date(now + GARBAGE_AFTER_MS) } },
          ],
        }),
      );
    }
    return doc;
  }

  /**
   * Gives the split up (when this member still holds it): deletes it, so that the next member to
   * renew writes a new one at once, and no document of a member that left stays behind.
   */
  async release(): Promise<void> {
    await this.d.deadline(
      "split release",
      this.splits().deleteOne({ _id: splitId(this.d.scope), holder: this.d.id }),
    );
  }

  private splits(): Collection<SplitDoc> {
    return this.d.leases as unknown as Collection<SplitDoc>;
  }

  /** Writes `doc` in place of the version seen; false when another member wrote first. */
  private async replace(doc: SplitDoc, seen: SeenSplit): Promise<boolean> {
    const { lockedAt: _stamped, ...fields } = doc;
    const update = { $set: fields, $currentDate: { lockedAt: true as const } };
    const splits = this.splits();
    if (seen.kind === "valid") {
      const r = await this.d.deadline(
        "split write",
        splits.updateOne({ _id: doc._id, version: seen.version }, update),
      );
      return r.matchedCount === 1;
    }
    // No valid split to compare with: an invalid one is deleted (whoever wrote it), then the
    // first of the members creating it wins on the _id.
    if (seen.kind === "invalid") {
      await this.d.deadline("split delete", splits.deleteOne({ _id: doc._id }));
    }
    try {
      const r = await this.d.deadline(
        "split write",
        splits.updateOne({ _id: doc._id, version: { $exists: false } }, update, { upsert: true }),
      );
      return r.upsertedCount === 1 || r.matchedCount === 1;
    } catch (err) {
      // Two members creating the split document at once: the other one won.
      if (isServerError(err) && err.code === DUPLICATE_KEY) return false;
      throw err;
    }
  }

  /**
   * How many other leases renewed within this member's lifetime were not among the `read` live
   * ones: the split read MAX_LEASES_READ and stopped. One count, only in a fleet that large.
   */
  private async countUnread(now: number, read: number, lifetimeMs: number): Promise<number> {
    const total = await this.d.deadline(
      "lease count",
      this.d.leases.countDocuments(liveLeaseFilter(this.d.scope, now, lifetimeMs)),
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
  private reportOtherBudgets(live: readonly LeaseDoc[], now: number): void {
    for (const l of live) {
      if (l.budget !== this.d.budget && this.complaints.due(`budget:${l._id}`, now)) {
        this.d.logger.warn(
          { lease: l._id, host: l.host, itsBudget: l.budget, budget: this.d.budget },
          "a fleet member has another maxWriteRate; the split keeps to this member's own",
        );
      }
    }
  }

  private noteMembership(ids: string[]): void {
    const now = new Set(ids);
    const joined = ids.filter((id) => !this.members.has(id));
    const left = [...this.members].filter((id) => !now.has(id));
    this.members = now;
    if (joined.length > 0 || left.length > 0) {
      this.d.logger.info({ members: now.size, joined, left }, "fleet membership changed");
    }
  }
}

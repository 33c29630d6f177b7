// A stand-in for the lease collection, in memory, on a virtual clock: the methods
// FleetMembership and its Splitter call (findOneAndUpdate and updateOne with $currentDate,
// findOne, find().limit().toArray(), countDocuments, deleteMany, deleteOne), for exactly the
// filters they use, the split document's compare-and-set included. Used by bench:fleet-scale to measure
// the protocol's arithmetic at sizes FerretDB cannot be driven at here. Not MongoDB.
import type { Collection } from "mongodb";
import type { LeaseDoc } from "../../sidecar/fleet/lease.js";

interface ScopeFilter {
  scope: string;
}

/** The split document's compare-and-set: on the version read, or on its absence. */
interface SplitFilter {
  _id: string;
  version?: number | { $exists: false };
  holder?: string;
}

type Doc = Record<string, unknown> & { _id: string };

interface CleanupFilter {
  scope: string;
  $or: [{ renewedAt: { $lt: Date } }, { renewedAt: { $gt: Date } }];
}

/** In-memory leases; `now()` is the server's clock (`$currentDate`). */
export class MemoryLeases {
  private readonly docs = new Map<string, Doc>();

  constructor(private readonly now: () => number) {}

  get size(): number {
    return this.docs.size;
  }

  async findOneAndUpdate(
    filter: { _id: string },
    update: { $set: Omit<LeaseDoc, "_id" | "renewedAt"> },
  ): Promise<LeaseDoc> {
    const doc: LeaseDoc = { _id: filter._id, ...update.$set, renewedAt: new Date(this.now()) };
    this.docs.set(filter._id, doc as unknown as Doc);
    return doc;
  }

  async findOne(filter: { _id: string }): Promise<Doc | null> {
    return this.docs.get(filter._id) ?? null;
  }

  /** The split document's write: $set and $currentDate, on the compare-and-set filter. */
  async updateOne(
    filter: SplitFilter,
    update: { $set: Record<string, unknown>; $currentDate?: Record<string, true> },
    options?: { upsert?: boolean },
  ): Promise<{ matchedCount: number; upsertedCount: number }> {
    const doc = this.docs.get(filter._id);
    const v = filter.version;
    const matches =
      doc !== undefined &&
      (v === undefined ||
        (typeof v === "number" ? doc.version === v : doc.version === undefined)) &&
      (filter.holder === undefined || doc.holder === filter.holder);
    const stamped = () => {
      const out: Record<string, unknown> = { ...update.$set };
      for (const k of Object.keys(update.$currentDate ?? {})) out[k] = new Date(this.now());
      return out;
    };
    if (matches) {
      this.docs.set(filter._id, { ...doc, ...stamped() } as Doc);
      return { matchedCount: 1, upsertedCount: 0 };
    }
    if (options?.upsert !== true) return { matchedCount: 0, upsertedCount: 0 };
    if (doc !== undefined) throw Object.assign(new Error("E11000 duplicate key"), { code: 11000 });
    this.docs.set(filter._id, { _id: filter._id, ...stamped() } as Doc);
    return { matchedCount: 0, upsertedCount: 1 };
  }

  find(filter: ScopeFilter): { limit(n: number): { toArray(): Promise<Doc[]> } } {
    return {
      limit: (n: number) => ({
        toArray: async () => {
          const out: Doc[] = [];
          for (const d of this.docs.values()) {
            if (out.length >= n) break;
            if (d.scope === filter.scope) out.push(d);
          }
          return out;
        },
      }),
    };
  }

  async countDocuments(filter: {
    scope: string;
    renewedAt: { $gt: Date; $lte: Date };
  }): Promise<number> {
    const after = filter.renewedAt.$gt.getTime();
    const until = filter.renewedAt.$lte.getTime();
    let n = 0;
    for (const d of this.docs.values()) {
      // The split document (another scope) has no renewedAt.
      if (d.scope !== filter.scope || !(d.renewedAt instanceof Date)) continue;
      const t = d.renewedAt.getTime();
      if (t > after && t <= until) n++;
    }
    return n;
  }

  async deleteMany(filter: CleanupFilter): Promise<{ deletedCount: number }> {
    const before = filter.$or[0].renewedAt.$lt.getTime();
    const after = filter.$or[1].renewedAt.$gt.getTime();
    let deletedCount = 0;
    for (const [id, d] of this.docs) {
      if (!(d.renewedAt instanceof Date)) continue;
      const t = d.renewedAt.getTime();
      if (d.scope === filter.scope && (t < before || t > after)) {
        this.docs.delete(id);
        deletedCount++;
      }
    }
    return { deletedCount };
  }

  async deleteOne(filter: { _id: string }): Promise<{ deletedCount: number }> {
    return { deletedCount: this.docs.delete(filter._id) ? 1 : 0 };
  }

  /** Typed as the collection FleetMembership takes: it calls only the methods above. */
  asCollection(): Collection<LeaseDoc> {
    return this as unknown as Collection<LeaseDoc>;
  }
}

// A stand-in for the lease collection, in memory, on a virtual clock: the methods
// FleetMembership calls (findOneAndUpdate with $currentDate, find().limit().toArray(),
// countDocuments, deleteMany, deleteOne), for exactly the filters it uses. Used by bench:fleet-scale to measure
// the protocol's arithmetic at sizes FerretDB cannot be driven at here. Not MongoDB.
import type { Collection } from "mongodb";
import type { LeaseDoc } from "../../sidecar/fleet/lease.js";

interface IdFilter {
  _id: string | { $ne: string };
  scope?: string;
}

interface CleanupFilter {
  scope: string;
  $or: [{ renewedAt: { $lt: Date } }, { renewedAt: { $gt: Date } }];
}

/** In-memory leases; `now()` is the server's clock (`$currentDate`). */
export class MemoryLeases {
  private readonly docs = new Map<string, LeaseDoc>();

  constructor(private readonly now: () => number) {}

  get size(): number {
    return this.docs.size;
  }

  async findOneAndUpdate(
    filter: { _id: string },
    update: { $set: Omit<LeaseDoc, "_id" | "renewedAt"> },
  ): Promise<LeaseDoc> {
    const doc: LeaseDoc = { _id: filter._id, ...update.$set, renewedAt: new Date(this.now()) };
    this.docs.set(filter._id, doc);
    return doc;
  }

  find(filter: IdFilter): { limit(n: number): { toArray(): Promise<LeaseDoc[]> } } {
    const not = typeof filter._id === "object" ? filter._id.$ne : undefined;
    return {
      limit: (n: number) => ({
        toArray: async () => {
          const out: LeaseDoc[] = [];
          for (const d of this.docs.values()) {
            if (out.length >= n) break;
            if (d._id !== not && (filter.scope === undefined || d.scope === filter.scope))
              out.push(d);
          }
          return out;
        },
      }),
    };
  }

  async countDocuments(filter: {
    scope: string;
    _id: { $ne: string };
    renewedAt: { $gt: Date; $lte: Date };
  }): Promise<number> {
    const after = filter.renewedAt.$gt.getTime();
    const until = filter.renewedAt.$lte.getTime();
    let n = 0;
    for (const d of this.docs.values()) {
      const t = d.renewedAt.getTime();
      if (d.scope === filter.scope && d._id !== filter._id.$ne && t > after && t <= until) n++;
    }
    return n;
  }

  async deleteMany(filter: CleanupFilter): Promise<{ deletedCount: number }> {
    const before = filter.$or[0].renewedAt.$lt.getTime();
    const after = filter.$or[1].renewedAt.$gt.getTime();
    let deletedCount = 0;
    for (const [id, d] of this.docs) {
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

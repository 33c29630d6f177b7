// Counts what FleetMembership asks of its lease collection: operations by kind, and documents
// returned (a find's whole result, one per findOneAndUpdate or findOne that found one).
import type { Collection } from "mongodb";
import type { LeaseDoc } from "../../sidecar/fleet/lease.js";

export interface LeaseCounts {
  ops: Record<string, number>;
  docsRead: number;
  /** Wall time spent awaiting each operation, ms, by kind. */
  waitMs: Record<string, number>;
}

export function newCounts(): LeaseCounts {
  return { ops: {}, docsRead: 0, waitMs: {} };
}

function note(c: LeaseCounts, kind: string, started: number, docs: number): void {
  c.ops[kind] = (c.ops[kind] ?? 0) + 1;
  c.waitMs[kind] = (c.waitMs[kind] ?? 0) + (performance.now() - started);
  c.docsRead += docs;
}

/** `leases`, counting into `c`. */
export function counting(leases: Collection<LeaseDoc>, c: LeaseCounts): Collection<LeaseDoc> {
  const wrap = {
    findOneAndUpdate: async (...args: Parameters<Collection<LeaseDoc>["findOneAndUpdate"]>) => {
      const t = performance.now();
      const r = await leases.findOneAndUpdate(...args);
      note(c, "findOneAndUpdate", t, r === null ? 0 : 1);
      return r;
    },
    find: (...args: Parameters<Collection<LeaseDoc>["find"]>) => ({
      limit: (n: number) => ({
        toArray: async () => {
          const t = performance.now();
          const r = await leases
            .find(...args)
            .limit(n)
            .toArray();
          note(c, "find", t, r.length);
          return r;
        },
      }),
    }),
    findOne: async (...args: Parameters<Collection<LeaseDoc>["findOne"]>) => {
      const t = performance.now();
      const r = await leases.findOne(...args);
      note(c, "findOne", t, r === null ? 0 : 1);
      return r;
    },
    updateOne: async (...args: Parameters<Collection<LeaseDoc>["updateOne"]>) => {
      const t = performance.now();
      const r = await leases.updateOne(...args);
      note(c, "updateOne", t, 0);
      return r;
    },
    countDocuments: async (...args: Parameters<Collection<LeaseDoc>["countDocuments"]>) => {
      const t = performance.now();
      const r = await leases.countDocuments(...args);
      note(c, "countDocuments", t, 0);
      return r;
    },
    deleteMany: async (...args: Parameters<Collection<LeaseDoc>["deleteMany"]>) => {
      const t = performance.now();
      const r = await leases.deleteMany(...args);
      note(c, "deleteMany", t, 0);
      return r;
    },
    deleteOne: async (...args: Parameters<Collection<LeaseDoc>["deleteOne"]>) => {
      const t = performance.now();
      const r = await leases.deleteOne(...args);
      note(c, "deleteOne", t, 0);
      return r;
    },
  };
  return wrap as unknown as Collection<LeaseDoc>;
}

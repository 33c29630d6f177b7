// Records for retention tests, written straight into a collection: old and new by their `_id`'s
// time (and `ts`), spread over actors, tenants and targets that holds can match.
import { ObjectId } from "bson";
import type { Collection, Document } from "mongodb";

export const DAY_MS = 86_400_000;

/** An ObjectId of the second of `at` (ms), unique (random tail). */
export function idAt(at: number): ObjectId {
  const bytes = Buffer.from(new ObjectId().id);
  bytes.writeUInt32BE(Math.floor(at / 1000), 0);
  return new ObjectId(bytes);
}

export interface SeedPlan {
  old: number;
  fresh: number;
  /** Age of the old records, in days (the new ones are a day old at most). */
  oldDays?: number;
}

/** Record `i` of a seed: actor `u<i % 10>`, tenant `t<i % 3>`, target `order/o<i % 7>`. */
function record(i: number, at: number): Document {
  return {
    _id: idAt(at),
    v: 1,
    ts: new Date(at),
    actor: { id: `u${i % 10}` },
    action: "POST /orders/:id",
    tenant: `t${i % 3}`,
    target: { type: "order", id: `o${i % 7}` },
  };
}

/**
 * Writes `plan.old` records `oldDays` (default 100) days old, one second apart, and `plan.fresh`
 * from the last day, in bulks of 1,000. Returns them all.
 */
export async function seedRecords(records: Collection, plan: SeedPlan): Promise<Document[]> {
  const now = Date.now();
  const oldFrom = now - (plan.oldDays ?? 100) * DAY_MS;
  const docs = [
    ...Array.from({ length: plan.old }, (_, i) => record(i, oldFrom + i * 1000)),
    ...Array.from({ length: plan.fresh }, (_, i) => record(i, now - DAY_MS + i * 10)),
  ];
  for (let i = 0; i < docs.length; i += 1_000) {
    await records.insertMany(docs.slice(i, i + 1_000), { ordered: false });
  }
  return docs;
}

/** Whether record `doc` is matched by one of the holds used by the retention tests. */
export function heldByTestHolds(doc: Document): boolean {
  return (
    doc.actor?.id === "u3" ||
    (doc.tenant === "t1" && doc.target?.type === "order" && doc.target?.id === "o2")
  );
}

/** The holds matching heldByTestHolds, as `createHolds().add()` inputs. */
export const TEST_HOLDS = [
  { actor: "u3", reason: "case 17", createdBy: "legal" },
  { tenant: "t1", targetType: "order", targetId: "o2", reason: "case 18", createdBy: "legal" },
] as const;

// Legal holds on an audit collection: add, list and remove the documents of `<collection>_holds`
// that retention never deletes records of. The library's face of `auditq hold`.
import { ObjectId } from "bson";
import type { Db } from "mongodb";
import { ConfigError } from "../../shared/util/errors.js";
import {
  checkHoldMatch,
  checkHoldText,
  HOLD_FIELDS,
  type HoldDoc,
  type HoldField,
  type HoldMatch,
} from "./hold-filter.js";

/** A new hold: what it matches (at least one field), why, and who places it. */
export interface HoldInput extends HoldMatch {
  reason: string;
  createdBy: string;
}

/** A stored hold, its `id` as a hex string. */
export interface Hold extends HoldMatch {
  id: string;
  reason: string;
  createdAt: Date;
  createdBy: string;
}

/** The legal holds of one audit collection. */
export interface Holds {
  /** Places a hold; throws ConfigError on a field that is not a plain string. Returns it. */
  add(input: HoldInput): Promise<Hold>;
  /** Every hold, oldest first. */
  list(): Promise<Hold[]>;
  /** Lifts the hold `id`; false when there is none by that id. */
  remove(id: string): Promise<boolean>;
}

/** The collection of the holds of `collection`. */
export function holdsCollectionName(collection: string): string {
  return `${collection}_holds`;
}

function toHold(doc: HoldDoc): Hold {
  const hold: Hold = {
    id: doc._id.toHexString(),
    reason: doc.reason,
    createdAt: doc.createdAt,
    createdBy: doc.createdBy,
  };
  for (const key of Object.keys(HOLD_FIELDS) as HoldField[]) {
    const value = doc[key];
    if (value !== undefined) hold[key] = value;
  }
  return hold;
}

/**
 * The legal holds of `collection` (default `"records"`) in `db`. Retention (the sidecar's
 * `retentionDays`) never deletes a record that a hold matches: every field of the hold equal to
 * the record's (`actor` is `actor.id`, `targetType` and `targetId` are `target.type` and
 * `target.id`). A hold takes effect at the next batch of a sweep that is running.
 */
export function createHolds(db: Db, options: { collection?: string } = {}): Holds {
  const holds = db.collection<HoldDoc>(holdsCollectionName(options.collection ?? "records"));
  return {
    async add(input) {
      const { reason, createdBy, ...match } = input;
      const doc: HoldDoc = {
        _id: new ObjectId(),
        ...checkHoldMatch(match),
        reason: checkHoldText("reason", reason),
        createdAt: new Date(),
        createdBy: checkHoldText("createdBy", createdBy),
      };
      await holds.insertOne(doc);
      return toHold(doc);
    },
    async list() {
      const docs = await holds.find({}).sort({ _id: 1 }).toArray();
      return docs.map(toHold);
    },
    async remove(id) {
      if (!ObjectId.isValid(id) || !/^[0-9a-f]{24}$/i.test(id)) {
        throw new ConfigError(
          `hold id: expected 24 hexadecimal characters, got ${JSON.stringify(id)}`,
        );
      }
      const { deletedCount } = await holds.deleteOne({ _id: ObjectId.createFromHexString(id) });
      return deletedCount === 1;
    },
  };
}

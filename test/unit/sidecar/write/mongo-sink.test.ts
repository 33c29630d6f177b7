// insertRecords' verdict per document on a partly failed bulk, against a stand-in collection that
// throws what the driver throws: a duplicate is stored, a document refused for itself fails (and
// goes to quarantine), and a document refused for its shard's sake (mongos, a shard down) makes
// the whole outcome unknown, so that the bulk is retried instead of quarantined.
import type { Collection, Document } from "mongodb";
import { describe, expect, it } from "vitest";
import { isMongoOutage } from "../../../../sidecar/write/mongo-errors.js";
import { insertRecords } from "../../../../sidecar/write/mongo-sink.js";

class BulkError extends Error {
  override name = "MongoBulkWriteError";
  result = { getWriteConcernError: () => undefined };
  constructor(
    readonly insertedCount: number,
    readonly writeErrors: { index: number; code: number; errmsg: string }[] | undefined,
  ) {
    super("bulk write failed");
  }
}

function refusing(errors: { index: number; code: number }[]): Collection {
  return {
    async insertMany(docs: Document[]) {
      throw new BulkError(
        docs.length - errors.length,
        errors.map((e) => ({ ...e, errmsg: `code ${e.code}` })),
      );
    },
  } as unknown as Collection;
}

const docs = [{ _id: 1 }, { _id: 2 }, { _id: 3 }];

describe("insertRecords on a partly failed bulk", () => {
  it("reports a duplicate as stored and a document refused for itself as failed", async () => {
    const out = await insertRecords(
      refusing([
        { index: 0, code: 11000 },
        { index: 2, code: 121 }, // DocumentValidationFailure
      ]),
      docs,
      {},
    );
    expect(out.map((o) => o.kind)).toEqual(["duplicate", "written", "failed"]);
  });

  it.each([
    [91, "ShutdownInProgress"],
    [189, "PrimarySteppedDown"],
    [10107, "NotWritablePrimary"],
    [6, "HostUnreachable"],
  ])("throws an outage when a shard refuses its documents with %i (%s)", async (code) => {
    const err = await insertRecords(
      refusing([
        { index: 1, code },
        { index: 2, code },
      ]),
      docs,
      {},
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BulkError);
    expect(isMongoOutage(err)).toBe(true);
  });

  it("rethrows a bulk error without writeErrors: its outcome is unknown", async () => {
    // A network error mid-bulk, from a copy of the driver that leaves writeErrors unset.
    const collection = {
      async insertMany(docs: Document[]) {
        throw new BulkError(docs.length - 1, undefined);
      },
    } as unknown as Collection;
    const err = await insertRecords(collection, docs, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BulkError);
  });
});

// The sidecar's default indexes on a real server, and what its planner says of the reader's queries.
import type { Document } from "bson";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SIDECAR_OPTIONS } from "../../../sidecar/config/option-table.js";
import { normalizeFilter, type ReadFilter } from "../../../sidecar/read/filter.js";
import { buildQuery } from "../../../sidecar/read/query.js";
import { ensureIndexes } from "../../../sidecar/write/indexes.js";
import { silentLogger } from "../../helpers/logger.js";
import { readRecord } from "../../helpers/read-records.js";
import { createTestDb, type TestDb } from "../../helpers/services.js";

/** Every stage name of an explain's plan tree, wherever the server puts it. */
function stages(plan: unknown, out: string[] = []): string[] {
  if (Array.isArray(plan)) for (const p of plan) stages(p, out);
  else if (typeof plan === "object" && plan !== null) {
    for (const [key, value] of Object.entries(plan)) {
      if (key === "stage" && typeof value === "string") out.push(value);
      else if (key !== "rejectedPlans") stages(value, out);
    }
  }
  return out;
}

const FILTERS: ReadFilter[] = [
  { actor: "alice" },
  { action: "login", from: new Date("2026-01-01T00:00:00Z") },
  { target: { type: "order" } },
  { target: { type: "order", id: "7" } },
  { status: 404 },
  { service: "shop", status: "5xx" },
  { requestId: "r-1" },
  { tenant: "acme", actor: "alice" },
];

describe("the reader's indexes on the test server", () => {
  let testDb: TestDb;
  beforeAll(async () => {
    testDb = await createTestDb();
    const records = testDb.db.collection("records");
    await records.insertMany(
      Array.from({ length: 50 }, (_, i) => readRecord(new Date(Date.UTC(2026, 0, 1, 0, i)))),
    );
    await ensureIndexes(records, SIDECAR_OPTIONS.indexes.default, 0, silentLogger);
  });
  afterAll(async () => {
    await testDb.dispose();
  });

  it("the sidecar creates every default index", async () => {
    const keys = (await testDb.db.collection("records").listIndexes().toArray()).map((i) =>
      JSON.stringify(i.key),
    );
    for (const index of SIDECAR_OPTIONS.indexes.default)
      expect(keys).toContain(JSON.stringify(index));
  });

  it.each(FILTERS)(
    "explain: %j is an index scan with no in-memory sort on MongoDB; FerretDB scans",
    async (filter) => {
      const query = buildQuery(normalizeFilter(filter), "desc");
      const explain: Document = await testDb.db
        .collection("records")
        .find(query.filter)
        .sort(query.sort)
        .limit(51)
        .explain();
      const plan = stages(explain.queryPlanner);
      if (explain.serverInfo?.ferretdbVersion !== undefined) {
        // FerretDB 1.24 on SQLite pushes no filter, sort or limit down (docs/reading.md#ferretdb).
        expect(explain.filterPushdown).toBe(false);
        expect(JSON.stringify(explain.queryPlanner)).toMatch(/SCAN/);
      } else {
        expect(plan).toContain("IXSCAN");
        expect(plan).not.toContain("COLLSCAN");
        expect(plan).not.toContain("SORT");
      }
    },
  );
});

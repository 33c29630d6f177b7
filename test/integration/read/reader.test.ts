// The reader against FerretDB: every filter, paging while writing, cursors, limits.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditRecord } from "../../../shared/wire/record.js";
import {
  createReader,
  QueryError,
  type Reader,
  type ReadFilter,
} from "../../../sidecar/read/index.js";
import { readRecord } from "../../helpers/read-records.js";
import { createTestDb, type TestDb } from "../../helpers/services.js";

const T0 = Date.parse("2026-03-01T10:00:00Z");
const ACTORS = ["alice", "bob", "carol"];
const ACTIONS = ["GET /orders/:id", "POST /orders", "DELETE /orders/:id", "login"];
const STATUSES = [200, 201, 302, 404, 500, 503];

/** 60 records, one every 7.5 s, fields cycling at different periods so filters overlap. */
function sampleRecords(): AuditRecord[] {
  return Array.from({ length: 60 }, (_, i) =>
    readRecord(new Date(T0 + i * 7_500), {
      actor: { id: ACTORS[i % 3] as string },
      action: ACTIONS[i % 4] as string,
      ...(i % 5 === 0 ? {} : { target: { type: i % 2 ? "order" : "invoice", id: String(i % 4) } }),
      outcome: {
        status: STATUSES[i % 6] as number,
        durationMs: i,
        ...(i === 7 ? { aborted: true } : {}),
      },
      service: { name: i % 2 ? "shop" : "billing", host: "h", pid: 1 },
      ...(i % 3 === 2 ? {} : { tenant: i % 3 === 0 ? "acme" : "globex" }),
    }),
  );
}

const newestFirst = (records: AuditRecord[]) =>
  [...records]
    .sort((a, b) => b._id.toHexString().localeCompare(a._id.toHexString()))
    .map((r) => r._id.toHexString());
const ids = (records: AuditRecord[]) => records.map((r) => r._id.toHexString());

describe("reader on FerretDB", () => {
  let testDb: TestDb;
  let reader: Reader;
  let all: AuditRecord[];

  beforeAll(async () => {
    testDb = await createTestDb();
    all = sampleRecords();
    await testDb.db.collection("records").insertMany(all);
    reader = createReader({ mongo: testDb.client, database: testDb.name });
  });
  afterAll(async () => {
    await reader.close();
    await testDb.dispose();
  });

  const at = (i: number) => new Date(T0 + i * 7_500);
  const cases: [string, ReadFilter, (r: AuditRecord) => boolean][] = [
    ["actor", { actor: "bob" }, (r) => r.actor.id === "bob"],
    ["action", { action: "login" }, (r) => r.action === "login"],
    ["target type", { target: { type: "order" } }, (r) => r.target?.type === "order"],
    ["target id", { target: { id: "2" } }, (r) => r.target?.id === "2"],
    [
      "target both",
      { target: { type: "order", id: "1" } },
      (r) => r.target?.type === "order" && r.target.id === "1",
    ],
    ["status number", { status: 404 }, (r) => (r.outcome?.status ?? 0) === 404],
    ["status class", { status: "5xx" }, (r) => (r.outcome?.status ?? 0) >= 500],
    [
      "status 3xx",
      { status: "3xx" },
      (r) => (r.outcome?.status ?? 0) >= 300 && (r.outcome?.status ?? 0) < 400,
    ],
    [
      "failed",
      { status: "failed" },
      (r) => (r.outcome?.status ?? 0) >= 400 || r.outcome?.aborted === true,
    ],
    ["from (Date)", { from: at(40) }, (r) => r.ts >= at(40)],
    ["to (ISO)", { to: at(13).toISOString() }, (r) => r.ts < at(13)],
    [
      "from+to mid-second",
      { from: new Date(at(10).getTime() + 500), to: at(21) },
      (r) => r.ts.getTime() >= at(10).getTime() + 500 && r.ts < at(21),
    ],
    ["service", { service: "billing" }, (r) => r.service.name === "billing"],
    ["requestId", { requestId: "" }, () => false],
    ["tenant", { tenant: "acme" }, (r) => r.tenant === "acme"],
    [
      "combined",
      { actor: "alice", service: "billing", status: "2xx" },
      (r) =>
        r.actor.id === "alice" && r.service.name === "billing" && (r.outcome?.status ?? 0) < 300,
    ],
    ["nothing", {}, () => true],
  ];
  // requestId: one real value, set once the records exist.
  cases[13] = ["requestId", { requestId: "set below" }, () => false];

  it.each(cases)("filters by %s, newest first", async (_name, filter, match) => {
    if (filter.requestId) {
      const one = all[17] as AuditRecord;
      filter = { requestId: one.request?.requestId };
      match = (r) => r._id.equals(one._id);
    }
    const expected = newestFirst(all.filter(match));
    expect(expected.length).toBeLessThanOrEqual(60);
    const page = await reader.find(filter, { limit: 1000 });
    expect(ids(page.records)).toEqual(expected);
    expect(page.next).toBeNull();
  });

  it("pages newest first with a limit, and asc oldest first", async () => {
    const desc: string[] = [];
    let next: string | null = null;
    do {
      const page: Awaited<ReturnType<Reader["find"]>> = await reader.find(
        { actor: "alice" },
        { limit: 6, after: next },
      );
      expect(page.records.length).toBeLessThanOrEqual(6);
      desc.push(...ids(page.records));
      next = page.next;
    } while (next);
    expect(desc).toEqual(newestFirst(all.filter((r) => r.actor.id === "alice")));
    const first = await reader.find({ actor: "alice" }, { limit: 4, order: "asc" });
    expect(ids(first.records)).toEqual(
      newestFirst(all.filter((r) => r.actor.id === "alice"))
        .reverse()
        .slice(0, 4),
    );
  });

  it("refuses a cursor used with another filter, a changed order, or altered", async () => {
    const page = await reader.find({ actor: "bob" }, { limit: 2 });
    const cursor = page.next as string;
    await expect(reader.find({ actor: "carol" }, { after: cursor })).rejects.toThrow(
      /another filter or tenant/,
    );
    await expect(reader.find({ actor: "bob" }, { after: cursor, order: "asc" })).rejects.toThrow(
      QueryError,
    );
    const body = JSON.parse(Buffer.from(cursor, "base64url").toString()) as unknown[];
    body[2] = "0".repeat(24);
    const forged = Buffer.from(JSON.stringify(body)).toString("base64url");
    await expect(reader.find({ actor: "bob" }, { after: forged })).rejects.toThrow(
      /another filter or tenant/,
    );
    for (const bad of ["x", `${cursor}A`, "a".repeat(10_000), 42, { $gt: "" }]) {
      await expect(reader.find({ actor: "bob" }, { after: bad as string })).rejects.toThrow(
        QueryError,
      );
    }
  });

  it("refuses limit 10^9, 0, 1.5, unknown options and bad formats or orders", async () => {
    for (const limit of [1e9, 0, 1.5, "10"]) {
      await expect(reader.find({}, { limit: limit as number })).rejects.toThrow(
        /limit: expected an integer from 1 to 1000/,
      );
    }
    await expect(reader.find({}, { skip: 5 } as never)).rejects.toThrow(/unknown option/);
    expect(() => reader.stream({}, { limit: 5 } as never)).toThrow(
      /limit: unknown option; known: order/,
    );
    expect(() => reader.export({}, { format: "csv", skip: 1 } as never)).toThrow(
      /skip: unknown option/,
    );
    expect(() => reader.export({}, { format: "xml" } as never)).toThrow(
      /format: expected "csv" or "ndjson"/,
    );
    expect(() => reader.stream({}, { order: "up" } as never)).toThrow(
      /order: expected "desc" or "asc"/,
    );
  });
});

// Paging while the sidecar writes, tenant binding, and filters that try to be operators.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AuditRecord } from "../../../shared/wire/record.js";
import { createReader, type Page, QueryError, type Reader } from "../../../sidecar/read/index.js";
import { readRecord } from "../../helpers/read-records.js";
import { createTestDb, type TestDb } from "../../helpers/services.js";

const T0 = Date.parse("2026-04-01T08:00:00Z");
const at = (i: number) => new Date(T0 + i * 1_000);
const hex = (r: AuditRecord) => r._id.toHexString();

describe("reader paging and binding on FerretDB", () => {
  let testDb: TestDb;
  let reader: Reader;
  const insert = (records: AuditRecord[]) => testDb.db.collection("records").insertMany(records);

  beforeEach(async () => {
    testDb = await createTestDb();
    reader = createReader({ mongo: testDb.client, database: testDb.name });
  });
  afterEach(async () => {
    await testDb.dispose();
  });

  async function pageAll(order: "asc" | "desc", between: (n: number) => Promise<void>) {
    const seen: string[] = [];
    let next: string | null = null;
    let n = 0;
    do {
      const page: Page = await reader.find({ actor: "alice" }, { limit: 5, after: next, order });
      seen.push(...page.records.map(hex));
      next = page.next;
      await between(n++);
    } while (next);
    return seen;
  }

  it("newest first: records written between pages, newer and older, never skip or repeat", async () => {
    const initial = Array.from({ length: 23 }, (_, i) => readRecord(at(100 + i)));
    await insert(initial);
    let late = 0;
    const older: AuditRecord[] = [];
    const seen = await pageAll("desc", async (n) => {
      // Newer records (above the cursor) and one from long ago (below it) arrive meanwhile.
      const old = readRecord(at(n));
      older.push(old);
      await insert([readRecord(at(500 + n)), old]);
      late++;
    });
    // Strictly newest first: nothing repeats; all the initial records come first, none missing.
    expect(seen).toEqual([...seen].sort().reverse());
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.slice(0, 23)).toEqual(initial.map(hex).sort().reverse());
    // Then only the older records written meanwhile (below the cursor), none of the newer ones.
    const olderWritten = new Set(older.map(hex));
    expect(seen.slice(23).every((id) => olderWritten.has(id))).toBe(true);
    expect(seen.length).toBeGreaterThan(23);
    expect(late).toBeGreaterThan(4);
  });

  it("oldest first: records appended between pages are reached once, in order", async () => {
    const initial = Array.from({ length: 12 }, (_, i) => readRecord(at(100 + i)));
    await insert(initial);
    const appended: AuditRecord[] = [];
    const seen = await pageAll("asc", async (n) => {
      if (n < 3) {
        const more = [readRecord(at(200 + n * 2)), readRecord(at(201 + n * 2))];
        appended.push(...more);
        await insert(more);
      }
    });
    expect(seen).toEqual([...initial, ...appended].map(hex).sort());
  });

  it("never reads a record whose _id is not an ObjectId (another producer's), nor pages past it", async () => {
    const ours = Array.from({ length: 5 }, (_, i) => readRecord(at(i)));
    const foreign = [
      { ...readRecord(at(2)), _id: "zzz-string-id" },
      { ...readRecord(at(3)), _id: 42 },
      { ...readRecord(at(4)), _id: { nested: 1 } },
    ];
    await testDb.db.collection("records").insertMany([...ours, ...foreign] as never[]);
    for (const order of ["desc", "asc"] as const) {
      const seen: string[] = [];
      let next: string | null = null;
      do {
        const page: Page = await reader.find({}, { limit: 2, after: next, order });
        seen.push(...page.records.map(hex));
        next = page.next;
      } while (next);
      const expected = ours.map(hex).sort();
      expect(seen).toEqual(order === "asc" ? expected : expected.reverse());
    }
    const streamed: unknown[] = [];
    for await (const r of reader.stream()) streamed.push(r._id);
    expect(streamed).toHaveLength(5);
  });

  it("a bound reader reads only its tenant, refuses another, and refuses other tenants' cursors", async () => {
    await insert([
      ...Array.from({ length: 6 }, (_, i) => readRecord(at(i), { tenant: "acme" })),
      ...Array.from({ length: 6 }, (_, i) => readRecord(at(i), { tenant: "globex" })),
      readRecord(at(9)),
    ]);
    const acme = createReader({ mongo: testDb.client, database: testDb.name, tenant: "acme" });
    const globex = createReader({ mongo: testDb.client, database: testDb.name, tenant: "globex" });
    const page = await acme.find({}, { limit: 3 });
    expect(page.records.map((r) => r.tenant)).toEqual(["acme", "acme", "acme"]);
    await expect(acme.find({ tenant: "globex" })).rejects.toThrow(/bound to another tenant/);
    expect((await acme.find({ tenant: "acme" }, { limit: 100 })).records).toHaveLength(6);
    await expect(globex.find({}, { after: page.next })).rejects.toThrow(/another filter or tenant/);
    // The unbound reader's cursor for the same filter is not the bound one's either.
    const open = await reader.find({}, { limit: 2 });
    await expect(acme.find({}, { after: open.next })).rejects.toThrow(/another filter or tenant/);
    const streamed: AuditRecord[] = [];
    for await (const r of globex.stream({ actor: "alice" })) streamed.push(r);
    expect(streamed.map((r) => r.tenant)).toEqual(Array(6).fill("globex"));
    expect(() => createReader({ mongo: testDb.client, tenant: { $ne: null } as never })).toThrow(
      /tenant/,
    );
  });

  it("refuses operators, objects, unknown fields and huge values, before asking MongoDB", async () => {
    await insert([readRecord(at(1)), readRecord(at(2), { actor: { id: "bob" } })]);
    const bad: [unknown, RegExp][] = [
      [{ actor: { $ne: null } }, /actor: expected a string, got an object/],
      [{ actor: '{"$ne": null}' }, /actor: values are matched literally/],
      [{ action: "$where" }, /action: values are matched literally/],
      [{ actor: ["alice"] }, /actor: expected a string, got an array/],
      [{ target: { type: { $gt: "" } } }, /target.type: expected a string/],
      [{ target: "order:1" }, /target: expected/],
      [{ target: { kind: "x" } }, /target.kind: unknown field/],
      [{ status: { $gte: 0 } }, /status: expected a number/],
      [{ status: "6xx" }, /status/],
      [{ status: 42 }, /status: expected an integer from 100 to 599/],
      [{ from: { $gt: 0 } }, /from: expected a Date or an ISO 8601 string/],
      [{ from: "yesterday" }, /from: expected a Date/],
      [{ from: "2026-01-01T10:00:00" }, /with a zone/],
      [{ from: "2026-02-02", to: "2026-01-01" }, /from: is after to/],
      [{ $where: "sleep(1000)" }, /\$where: unknown filter field/],
      [{ "actor.id": "alice" }, /unknown filter field/],
      [{ actor: "a".repeat(1024 * 1024) }, /actor: longer than 1024 characters/],
      ["actor=alice", /filter: expected an object, got a string/],
      [[{ actor: "alice" }], /filter: expected an object, got an array/],
    ];
    for (const [filter, message] of bad) {
      await expect(
        reader.find(filter as never),
        JSON.stringify(filter).slice(0, 80),
      ).rejects.toThrow(message);
      expect(() => reader.stream(filter as never), "stream").toThrow(QueryError);
      expect(() => reader.export(filter as never, { format: "csv" }), "export").toThrow(QueryError);
    }
    // A JSON-parsed `__proto__` key is an unknown field, not a prototype.
    await expect(reader.find(JSON.parse('{"__proto__": {"actor": "bob"}}'))).rejects.toThrow(
      /unknown filter field/,
    );
  });
});

// Export and stream on FerretDB: CSV and NDJSON of real records, pulled only as fast as read.
import { type Document, EJSON } from "bson";
import { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, createReader, type Reader } from "../../../sidecar/read/index.js";
import { readRecord } from "../../helpers/read-records.js";
import { createTestDb, mongoUri, type TestDb, waitFor } from "../../helpers/services.js";

const T0 = Date.parse("2026-05-01T00:00:00Z");
const COUNT = 600;

async function text(stream: NodeJS.ReadableStream): Promise<string> {
  let out = "";
  for await (const chunk of stream) out += String(chunk);
  return out;
}

describe("reader export on FerretDB", () => {
  let testDb: TestDb;
  let client: MongoClient;
  let reader: Reader;
  const getMores: number[] = [];
  const finds: Document[] = [];
  const killed: Document[] = [];

  beforeAll(async () => {
    testDb = await createTestDb();
    const records = Array.from({ length: COUNT }, (_, i) =>
      readRecord(new Date(T0 + i * 1000), {
        actor: { id: i === 0 ? '=HYPERLINK("http://x")' : `user-${i % 4}` },
        action: i === 1 ? '+cmd|"/c calc"!A1' : "POST /orders",
        target: { type: "order", id: i === 2 ? "@SUM(1,2)" : String(i) },
        // About 2 KB a line, so that a few hundred lines outgrow the export's buffer.
        meta: { note: "x".repeat(2000), when: new Date(T0), n: i, line: "a,b\r\nc" },
      }),
    );
    await testDb.db.collection("records").insertMany(records);
    client = new MongoClient(mongoUri(), { monitorCommands: true });
    client.on("commandStarted", (e) => {
      if (e.commandName === "getMore") getMores.push(Date.now());
      if (e.commandName === "find") finds.push(e.command);
      if (e.commandName === "killCursors") killed.push(e.command);
    });
    reader = createReader({ mongo: client, database: testDb.name });
  });
  afterAll(async () => {
    await client.close();
    await testDb.dispose();
  });

  it("CSV: header, fixed columns, formula cells escaped, RFC 4180 quoting", async () => {
    const csv = await text(reader.export({ actor: '=HYPERLINK("http://x")' }, { format: "csv" }));
    const [header, row, end] = csv.split("\r\n");
    expect(header).toBe("time,id,actor,action,target,status,duration,request id,service,meta");
    expect(end).toBe("");
    expect(row).toMatch(
      /^2026-05-01T00:00:00\.000Z,[0-9a-f]{24},"'=HYPERLINK\(""http:\/\/x""\)",POST \/orders,order:0,200,3,[0-9a-f]{16},shop,"\{/,
    );
    // meta as JSON, its CRLF and commas inside one quoted cell.
    expect(row).toContain('"line"":""a,b\\r\\nc""}"');
    const all = await text(
      reader.export({ to: new Date(T0 + 3000) }, { format: "csv", order: "asc" }),
    );
    const lines = all.split("\r\n");
    expect(lines).toHaveLength(5);
    expect(lines[2]).toContain(`,"'+cmd|""/c calc""!A1",`);
    expect(lines[3]).toContain(`,"order:@SUM(1,2)",`); // not the cell's start: kept, quoted for the comma
  });

  it("NDJSON: one relaxed Extended JSON record a line, all of them", async () => {
    const out = await text(reader.export({}, { format: "ndjson" }));
    const lines = out.trimEnd().split("\n");
    expect(lines).toHaveLength(COUNT);
    const first = EJSON.parse(lines[0] as string, { relaxed: true }) as {
      meta: { n: number; when: Date };
    };
    expect(first.meta.n).toBe(COUNT - 1);
    expect(first.meta.when).toEqual(new Date(T0));
  });

  it("pulls records only as the reader of the export reads (bounded memory)", async () => {
    getMores.length = 0;
    const stream = reader.export({}, { format: "ndjson" });
    const first = await new Promise<Buffer>((resolve) => stream.once("data", resolve));
    stream.pause();
    expect(first.length).toBeGreaterThan(0);
    // Paused: the stream fills its buffer to the high-water mark and stops asking for records.
    await waitFor(
      "the export's buffer to fill",
      async () => stream.readableLength,
      (n) => n >= stream.readableHighWaterMark,
    );
    const buffered = stream.readableLength;
    // The first batch (200 records, ~400 KB) is all it fetched: no getMore while nobody reads.
    expect(getMores).toHaveLength(0);
    expect(buffered).toBeLessThan(stream.readableHighWaterMark + 4096);
    const rest = await text(stream);
    expect((first.toString() + rest).trimEnd().split("\n")).toHaveLength(COUNT);
    expect(getMores.length).toBeGreaterThanOrEqual(2);
  });

  it("a stream stopped early closes its cursor", async () => {
    killed.length = 0;
    let n = 0;
    for await (const record of reader.stream({}, { order: "asc" })) {
      expect(record.meta?.n).toBe(n);
      if (++n === 3) break;
    }
    expect(n).toBe(3);
    // 600 records, a batch of 200: the server still held a cursor, and was told to drop it.
    expect(killed).toHaveLength(1);
  });

  it("a page carries the server time limit (maxTimeMS, 30 s unless set); streams carry none", async () => {
    finds.length = 0;
    await reader.find({}, { limit: 1 });
    const limited = createReader({ mongo: client, database: testDb.name, maxTimeMs: 1234 });
    await limited.find({}, { limit: 1 });
    await createReader({ mongo: client, database: testDb.name, maxTimeMs: 0 }).find(
      {},
      { limit: 1 },
    );
    for await (const _ of limited.stream({}, { order: "asc" })) break;
    expect(finds.map((c) => c.maxTimeMS)).toEqual([30_000, 1234, undefined, undefined]);
    for (const maxTimeMs of [-1, 1.5, "10", 3_600_001]) {
      expect(() => createReader({ mongo: client, maxTimeMs: maxTimeMs as number })).toThrow(
        ConfigError,
      );
    }
  });
});

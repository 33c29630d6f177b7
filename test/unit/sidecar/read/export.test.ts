// CSV cells (RFC 4180 and formula escaping) and the line formats of an export.
import { EJSON, ObjectId } from "bson";
import { describe, expect, it } from "vitest";
import { CSV_COLUMNS, csvCell, csvLine, ndjsonLine } from "../../../../sidecar/read/export.js";

describe("csvCell", () => {
  it.each([
    ["plain", "plain"],
    ["", ""],
    [undefined, ""],
    [null, ""],
    [404, "404"],
    ["a,b", '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ["two\nlines", '"two\nlines"'],
    ["cr\rhere", '"cr\rhere"'],
    ["=1+2", "'=1+2"],
    ["+cmd", "'+cmd"],
    ["-2", "'-2"],
    ["@SUM(A1)", "'@SUM(A1)"],
    ["\tx", "'\tx"],
    ["\rx", '"\'\rx"'],
    ['=HYPERLINK("http://x","y")', '"\'=HYPERLINK(""http://x"",""y"")"'],
    ["a=b", "a=b"],
  ])("%j → %s", (value, cell) => {
    expect(csvCell(value)).toBe(cell);
  });
});

describe("export lines", () => {
  const record = {
    _id: new ObjectId("6b09eab43961488f80b2e9ac"),
    v: 2,
    ts: new Date("2026-11-27T20:40:20.659Z"),
    actor: { id: "user-19" },
    action: "order.cancel",
    target: { type: "order", id: "1042" },
    request: { method: "POST", path: "/orders/1042/cancel", route: null, requestId: "r-1" },
    outcome: { status: 204, durationMs: 10.5 },
    service: { name: "shop", host: "h", pid: 1 },
    meta: { refund: { amount: 1999 }, at: new Date("2026-01-01T00:00:00Z") },
  };

  it("a CSV line has the fixed columns, CRLF, meta as Extended JSON", () => {
    expect(CSV_COLUMNS).toHaveLength(10);
    expect(csvLine(record)).toBe(
      '2026-11-27T20:40:20.659Z,6b09eab43961488f80b2e9ac,user-19,order.cancel,order:1042,204,10.5,r-1,shop,"{""refund"":{""amount"":1999},""at"":{""$date"":""2026-01-01T00:00:00Z""}}"\r\n',
    );
  });

  it("a record missing fields leaves their cells empty", () => {
    expect(csvLine({ _id: record._id, ts: "not a date", actor: { id: null } })).toBe(
      "not a date,6b09eab43961488f80b2e9ac,,,,,,,,\r\n",
    );
  });

  it("an NDJSON line reads back as the record", () => {
    const line = ndjsonLine(record);
    expect(line.endsWith("}\n")).toBe(true);
    expect(EJSON.parse(line, { relaxed: true })).toEqual(record);
  });
});

// The viewer in headless Chromium (Debian's, driven by playwright-core): load, filter, page with
// "More", open a record, export; and a record made of markup in every field stays text.
import { existsSync, readFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { AuditRecord } from "../../../shared/wire/record.js";
import { createReader, type Reader } from "../../../sidecar/read/index.js";
import { readRecord } from "../../helpers/read-records.js";
import { createTestDb, type TestDb } from "../../helpers/services.js";
import { sampleTrail, TRAIL_T0, viewerApp } from "../../helpers/viewer-app.js";

const CHROMIUM = process.env.AUDITQ_CHROMIUM ?? "/usr/bin/chromium";
const available = existsSync(CHROMIUM);
if (!available) console.warn(`SKIPPED viewer browser test: no Chromium at ${CHROMIUM}`);

// Markup that runs if it is ever parsed as HTML: an inline script and an image's error handler.
const HOSTILE = `<img src=x onerror="window.__pwned=1;alert(1)"><script>window.__pwned=2;alert(2)</script>`;
const hostileRecord = (): AuditRecord =>
  readRecord(new Date(TRAIL_T0 + 3_600_000), {
    actor: { id: HOSTILE, ip: HOSTILE, userAgent: HOSTILE },
    action: HOSTILE,
    target: { type: HOSTILE, id: HOSTILE },
    request: { method: "GET", path: HOSTILE, route: HOSTILE, requestId: HOSTILE },
    outcome: { status: 500, durationMs: 1, error: HOSTILE },
    service: { name: HOSTILE, host: HOSTILE, pid: 1 },
    tenant: HOSTILE,
    // MongoDB keys may not hold ".": a shorter payload as the key.
    meta: { "<img src=x onerror=alert(3)>": HOSTILE },
  });

const TRAIL = 60;
let testDb: TestDb;
let reader: Reader;
let trail: AuditRecord[];
let server: Server;
let base: string;
let browser: Browser;
let page: Page;
let dialogs: string[];
let consoleErrors: string[];

describe.skipIf(!available)("viewer in headless Chromium", () => {
  beforeAll(async () => {
    testDb = await createTestDb();
    trail = sampleTrail(TRAIL);
    await testDb.db.collection("records").insertMany([...trail, hostileRecord()]);
    reader = createReader({ mongo: testDb.client, database: testDb.name });
    server = viewerApp(express, { reader, authorize: () => true }).listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/audit/`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  });
  afterAll(async () => {
    await browser?.close();
    server?.close();
    await reader?.close();
    await testDb?.dispose();
  });

  async function openPage(query = "", timezoneId = "UTC"): Promise<void> {
    const context = await browser.newContext({
      timezoneId,
      viewport: { width: 1400, height: 900 },
      acceptDownloads: true,
    });
    page = await context.newPage();
    dialogs = [];
    consoleErrors = [];
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    page.on("console", (m) => {
      if (m.type() === "error") consoleErrors.push(m.text());
    });
    await page.goto(`${base}${query}`);
    await settled();
  }
  afterEach(async () => {
    await page?.context().close();
  });

  /** Waits until the page has answered its last request: the message is no longer "Loading…". */
  async function settled(): Promise<string> {
    // Runs in the page (serialized: no closure); a function, as the policy forbids eval of a
    // string. This project's types have no DOM, hence the cast.
    await page.waitForFunction(() => {
      const { document } = globalThis as unknown as {
        document: { getElementById(id: string): { textContent: string | null } };
      };
      const text = document.getElementById("message").textContent ?? "";
      return text !== "" && !text.startsWith("Loading");
    });
    return (await page.textContent("#message")) ?? "";
  }
  const column = (n: number) =>
    page.$$eval(`#records tbody tr td:nth-child(${n})`, (tds) => tds.map((td) => td.textContent));
  const apply = async () => {
    await page.click("button[type=submit]");
    await settled();
  };

  it("loads the newest records first, and pages on with More to the end", async () => {
    await openPage("?limit=25");
    expect(await column(1)).toHaveLength(25);
    for (let i = 0; i < 2; i++) {
      expect(await page.isVisible("#more")).toBe(true);
      await page.click("#more");
      await settled();
    }
    const times = (await column(1)) as string[];
    expect(times).toHaveLength(TRAIL + 1);
    expect(await page.isVisible("#more")).toBe(false);
    expect([...times].sort().reverse()).toEqual(times);
    expect(new Set(times).size).toBe(TRAIL + 1);
  });

  it("filters, keeps the filter in the URL, and a deep link shows the same", async () => {
    // Times on the page are the browser's (UTC+9 here); the URL and the API speak UTC.
    await openPage("", "Asia/Tokyo");
    await page.fill("input[name=actor]", "bob");
    await page.fill("input[name=status]", "5xx");
    await page.fill("input[name=from]", "2026-03-01T19:02:00");
    await apply();
    const want = trail.filter(
      (r) =>
        r.actor.id === "bob" &&
        (r.outcome?.status ?? 0) >= 500 &&
        r.ts.getTime() >= TRAIL_T0 + 120_000,
    );
    expect(want.length).toBeGreaterThan(1);
    expect(await column(2)).toEqual(want.map(() => "bob"));
    expect(await column(5)).toEqual(want.map(() => "500"));
    const local = (r: AuditRecord) =>
      new Date(r.ts.getTime() + 9 * 3_600_000).toISOString().slice(0, 19).replace("T", " ");
    expect(await column(1)).toEqual(want.reverse().map(local));
    const url = new URL(page.url());
    expect(url.searchParams.get("actor")).toBe("bob");
    expect(url.searchParams.get("from")).toBe("2026-03-01T10:02:00.000Z");
    await page.context().close();
    await openPage(url.search, "Asia/Tokyo");
    expect(await page.inputValue("input[name=actor]")).toBe("bob");
    expect(await page.inputValue("input[name=from]")).toMatch(/^2026-03-01T19:02(:00)?$/);
    expect(await column(2)).toHaveLength(want.length);
  });

  it("opens a record in the panel as its whole JSON", async () => {
    await openPage("?actor=carol");
    await page.click("#records tbody tr:nth-child(2)");
    await page.waitForSelector("#detail", { state: "visible" });
    const shown = JSON.parse((await page.textContent("#detail-json")) ?? "");
    const second = trail.filter((r) => r.actor.id === "carol").reverse()[1] as AuditRecord;
    expect(shown._id).toEqual({ $oid: second._id.toHexString() });
    expect(shown.meta).toEqual(second.meta);
    expect(shown.request.requestId).toBe(second.request?.requestId);
    if (process.env.AUDITQ_VIEWER_SCREENSHOT) {
      await page.screenshot({ path: process.env.AUDITQ_VIEWER_SCREENSHOT });
    }
  });

  it("exports the current filter as CSV and NDJSON downloads", async () => {
    await openPage();
    await page.fill("input[name=actor]", "alice");
    await apply();
    const alice = trail.filter((r) => r.actor.id === "alice");
    const [csv] = await Promise.all([page.waitForEvent("download"), page.click("#export-csv")]);
    expect(csv.suggestedFilename()).toMatch(/^audit-.+\.csv$/);
    const lines = readFileSync(await csv.path(), "utf8")
      .trimEnd()
      .split("\r\n");
    expect(lines).toHaveLength(alice.length + 1);
    expect(lines.slice(1).map((l) => l.split(",")[2])).toEqual(alice.map(() => "alice"));
    const [nd] = await Promise.all([page.waitForEvent("download"), page.click("#export-ndjson")]);
    const records = readFileSync(await nd.path(), "utf8")
      .trimEnd()
      .split("\n");
    expect(records.map((l) => JSON.parse(l).actor.id)).toEqual(alice.map(() => "alice"));
  });

  it("shows a record of markup as text: nothing runs, nothing is parsed", async () => {
    await openPage();
    const first = await page.$$eval("#records tbody tr:first-child td", (tds) =>
      tds.map((td) => td.textContent),
    );
    expect(first.slice(1, 4)).toEqual([HOSTILE, HOSTILE, `${HOSTILE}:${HOSTILE}`]);
    await page.click("#records tbody tr:first-child");
    const json = (await page.textContent("#detail-json")) ?? "";
    expect(JSON.parse(json).service.name).toBe(HOSTILE);
    expect(json).toContain(JSON.stringify(HOSTILE).slice(1, -1));
    const dom = await page.evaluate(`({
      imgs: document.querySelectorAll("img").length,
      scripts: Array.from(document.scripts, (s) => s.getAttribute("src")),
      pwned: window.__pwned,
    })`);
    expect(dom).toEqual({ imgs: 0, scripts: ["app.js"], pwned: undefined });
    expect(dialogs).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });
});

// `auditq query` against FerretDB: filters from flags, the three formats, and usage errors.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../../shared/util/errors.js";
import { runQuery } from "../../../sidecar/cli/commands/query.js";
import { readRecord } from "../../helpers/read-records.js";
import { createTestDb, mongoUri, type TestDb } from "../../helpers/services.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const HOUR = 3_600_000;

describe("auditq query", () => {
  let testDb: TestDb;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    testDb = await createTestDb();
    const now = Date.now();
    await testDb.db.collection("records").insertMany([
      readRecord(new Date(now - 3 * HOUR), { actor: { id: "alice" }, action: "login" }),
      readRecord(new Date(now - 2 * HOUR), {
        actor: { id: "bob" },
        target: { type: "order", id: "9" },
      }),
      readRecord(new Date(now - 30 * 60_000), {
        actor: { id: "=cmd\u001b[2J" },
        outcome: { status: 503, durationMs: 12 },
        tenant: "acme",
      }),
    ]);
    env = { AUDITQ_MONGODB_URI: mongoUri(), AUDITQ_DATABASE: testDb.name };
  });
  afterAll(async () => {
    await testDb.dispose();
  });

  async function query(args: string[]): Promise<string> {
    const out = new PassThrough();
    let text = "";
    out.on("data", (c) => {
      text += String(c);
    });
    expect(await runQuery(args, env, out)).toBe(0);
    return text;
  }

  it("prints a table newest first, control characters made visible", async () => {
    const lines = (await query([])).trimEnd().split("\n");
    expect(lines[0]).toMatch(/^time\s+actor\s+action\s+target\s+status\s+ms\s+request id$/);
    expect(lines).toHaveLength(4);
    expect(lines[1]).toContain("=cmd\\x1b[2J");
    expect(lines[1]).not.toContain("\u001b");
    expect(lines[3]).toContain("alice");
  });

  it("filters by flags: --since 1h, --actor, --target-type, --status class, --tenant", async () => {
    expect(
      (await query(["--since", "1h", "--format", "ndjson"])).trimEnd().split("\n"),
    ).toHaveLength(1);
    expect(await query(["--actor", "alice", "--format", "ndjson"])).toContain('"action":"login"');
    expect(await query(["--target-type", "order", "--format", "ndjson"])).toContain('"bob"');
    expect(await query(["--status", "5xx", "--format", "ndjson"])).toContain('"status":503');
    expect(await query(["--status", "503", "--tenant", "acme", "--format", "ndjson"])).toContain(
      "acme",
    );
    expect(await query(["--until", "90m", "--format", "ndjson", "--order", "asc"])).toMatch(
      /^\{.*alice.*\n\{.*bob.*\n$/,
    );
    expect(await query(["--actor", "nobody"])).toBe("(no records match)\n");
  });

  it("--format csv escapes formula cells; --limit stops early", async () => {
    const csv = await query(["--format", "csv", "--limit", "1"]);
    const lines = csv.split("\r\n");
    expect(lines[0]).toBe("time,id,actor,action,target,status,duration,request id,service,meta");
    expect(lines[1]).toContain(",'=cmd\u001b[2J,");
    expect(lines).toHaveLength(3);
  });

  it("bad usage is a ConfigError (exit 2) with one line", async () => {
    for (const args of [
      ["--actor"],
      ["--bogus", "x"],
      ["--since", "yesterday"],
      ["--format", "xml"],
      ["--limit", "0"],
      ["--limit", "5000"],
      ["--status", "6xx"],
      ["--actor", '{"$ne":null}'],
      ["positional"],
      ["--mongodb-uri", "http://not-mongo"],
    ]) {
      const err = await runQuery(args, env, new PassThrough()).catch((e: unknown) => e);
      expect(err, args.join(" ")).toBeInstanceOf(ConfigError);
      expect((err as Error).message, args.join(" ")).not.toContain("\n");
    }
    const unset = await runQuery([], {}, new PassThrough()).catch((e: unknown) => e);
    expect((unset as Error).message).toMatch(
      /^invalid configuration; AUDITQ_MONGODB_URI \(--mongodb-uri\) is not set/,
    );
  });

  it("as a command: exit 2 and one line on stderr, never the URI's password", async () => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", `${ROOT}sidecar/cli/auditq.ts`, "query", "--status", "nope"],
      {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, AUDITQ_MONGODB_URI: "mongodb://user:hunter2secret@127.0.0.1:1/" },
      },
    );
    let stderr = "";
    child.stderr.on("data", (c) => {
      stderr += String(c);
    });
    const [code] = await once(child, "exit");
    expect(code).toBe(2);
    expect(stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(stderr).toMatch(/^auditq query: bad filter: status/);
    expect(stderr).not.toContain("hunter2secret");
  });
});

// `auditq hold add|list|remove` against the real FerretDB: holds stored as the sweep reads them,
// usage errors in one line with exit 2, and no credential printed.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { holdClauses } from "../../sidecar/retention/hold-filter.js";
import { createTestDb, mongoUri, type TestDb } from "../helpers/services.js";

const execFileP = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

async function auditq(args: string[], env: Record<string, string>) {
  try {
    const { stdout, stderr } = await execFileP(
      process.execPath,
      ["--import", "tsx", `${ROOT}sidecar/cli/auditq.ts`, ...args],
      { cwd: ROOT, env: { ...process.env, ...env } },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("auditq hold", () => {
  let mongo: TestDb;
  let env: Record<string, string>;
  beforeEach(async () => {
    mongo = await createTestDb();
    env = {
      AUDITQ_MONGODB_URI: mongoUri(),
      AUDITQ_DATABASE: mongo.name,
      AUDITQ_COLLECTION: "trail",
    };
  });
  afterEach(async () => {
    await mongo.dispose();
  });

  it("adds, lists and removes holds in <collection>_holds", async () => {
    const added = await auditq(
      ["hold", "add", "--actor", "u1", "--tenant", "acme", "--reason", "case 9", "--by", "legal"],
      env,
    );
    expect(added).toMatchObject({ code: 0, stderr: "" });
    const id = /^added hold ([0-9a-f]{24}) /.exec(added.stdout)?.[1] as string;
    expect(id).toBeDefined();
    const stored = await mongo.db.collection("trail_holds").find({}).toArray();
    expect(stored).toEqual([
      expect.objectContaining({
        actor: "u1",
        tenant: "acme",
        reason: "case 9",
        createdBy: "legal",
      }),
    ]);
    expect(stored[0]?.createdAt).toBeInstanceOf(Date);
    // What the sweep excludes for it.
    expect(holdClauses(stored)).toEqual([{ "actor.id": "u1", tenant: "acme" }]);

    const listed = await auditq(["hold", "list", "--json"], env);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({ id, actor: "u1", tenant: "acme", reason: "case 9" }),
    ]);
    expect((await auditq(["hold", "list"], env)).stdout).toMatch(
      new RegExp(`^${id} .*--actor "u1"`),
    );

    expect(await auditq(["hold", "remove", id], env)).toMatchObject({ code: 0 });
    expect(await mongo.db.collection("trail_holds").countDocuments()).toBe(0);
    const again = await auditq(["hold", "remove", id], env);
    expect(again).toMatchObject({ code: 1, stderr: `auditq hold: no hold ${id}\n` });
  }, 120_000);

  it("exits 2 with one line on usage errors, and never prints a credential", async () => {
    const cases: [string[], RegExp][] = [
      [["hold"], /expected add, list or remove/],
      [["hold", "add", "--actor", "u1"], /--reason is required/],
      [["hold", "add", "--reason", "r"], /at least one of actor/],
      [["hold", "add", "--actr", "u1", "--reason", "r"], /Unknown option '--actr'/],
      [["hold", "remove"], /remove takes one hold id/],
      [["hold", "remove", "nope"], /expected 24 hexadecimal/],
    ];
    const outs = await Promise.all(cases.map(([args]) => auditq(args, env)));
    for (const [i, [args, message]] of cases.entries()) {
      const out = outs[i] as Awaited<ReturnType<typeof auditq>>;
      expect(out.code, args.join(" ")).toBe(2);
      expect(out.stderr.trimEnd().split("\n"), args.join(" ")).toHaveLength(1);
      expect(out.stderr).toMatch(message);
    }
    const refused = await auditq(["hold", "list"], {
      ...env,
      AUDITQ_MONGODB_URI:
        "mongodb://auditor:hunter2secret@127.0.0.1:1/?serverSelectionTimeoutMS=500",
    });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/cannot connect to MongoDB/);
    expect(refused.stderr + refused.stdout).not.toContain("hunter2secret");
    expect(await mongo.db.collection("trail_holds").countDocuments()).toBe(0);
  }, 120_000);
});

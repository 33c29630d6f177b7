// Installing auditq before a release, as the README says: from a clean copy of the committed tree
// (`git archive HEAD`: no dist/, no node_modules), `npm ci` and `npm pack` give a tarball with the
// code in it (the `prepare` script builds), and a fresh app installs that tarball, or the git
// repository itself, next to Express and the AWS SDK, and loads both entry points and both
// commands. Slow (full installs from the npm cache, builds); uncommitted changes are not seen.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const NPM_QUIET = ["--prefer-offline", "--no-audit", "--no-fund"];
const PEERS = ["express@5", "@aws-sdk/client-sqs@3", "prom-client@15", "mongodb@7", "pino@10"];
const { version: VERSION } = (await import(join(ROOT, "package.json"), { with: { type: "json" } }))
  .default as { version: string };

/** Runs a command; on failure, the error says which command, where, and its output. */
async function run(cmd: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await exec(cmd, args, { cwd, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(" ")} in ${cwd} failed:\n${stderr}\n${stdout}`, {
      cause: err,
    });
  }
}

const LOADS = `import { auditq } from "auditq";
import { createSidecar } from "auditq/sidecar";
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const cjs = require("auditq");
const cjsSidecar = require("auditq/sidecar");
console.log(JSON.stringify([typeof auditq, typeof createSidecar, typeof cjs.auditq, typeof cjsSidecar.createSidecar]));
`;

/**
 * A fresh app with `spec` installed next to Express, the AWS SDK and the sidecar's optional
 * peers (README: "where the sidecar runs"); its checks' outputs.
 */
async function freshApp(dir: string, spec: string) {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "package.json"), JSON.stringify({ name: "app", private: true }));
  await run("npm", ["install", ...NPM_QUIET, spec, ...PEERS], dir);
  await writeFile(join(dir, "loads.mjs"), LOADS);
  return {
    loads: JSON.parse(await run(process.execPath, ["loads.mjs"], dir)),
    sidecarVersion: (await run("npx", ["--no-install", "auditq-sidecar", "--version"], dir)).trim(),
    auditqHelp: await run("npx", ["--no-install", "auditq", "--help"], dir),
  };
}

const EXPECTED = {
  loads: ["function", "function", "function", "function"],
  sidecarVersion: VERSION,
  auditqHelp: expect.stringContaining("Usage: auditq <command>"),
};

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "auditq-clean-clone-"));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("a clean clone", () => {
  it("packs a tarball with the built code, which a fresh app installs and runs", async () => {
    const src = join(work, "src");
    await mkdir(src);
    await exec("sh", ["-c", `git -C "${ROOT}" archive HEAD | tar -x -C "${src}"`]);
    await run("npm", ["ci", ...NPM_QUIET], src);
    await run("npm", ["pack", "--pack-destination", work], src);
    const [tarball] = (await readdir(work)).filter((f) => f.endsWith(".tgz"));
    const files = (await run("tar", ["-tzf", tarball as string], work)).split("\n");
    expect(files).toEqual(
      expect.arrayContaining([
        "package/dist/index.js",
        "package/dist/index.cjs",
        "package/dist/cli.js",
        "package/dist/auditq.js",
      ]),
    );
    expect(await freshApp(join(work, "app-tarball"), join(work, tarball as string))).toEqual(
      EXPECTED,
    );
  }, 600_000);

  it("installs from its git URL: npm builds it in the checkout", async () => {
    const head = (await run("git", ["rev-parse", "HEAD"], ROOT)).trim();
    // The repository of this checkout (a worktree's common directory), at the tested commit.
    const gitDir = (
      await run("git", ["rev-parse", "--path-format=absolute", "--git-common-dir"], ROOT)
    ).trim();
    expect(await freshApp(join(work, "app-git"), `git+file://${gitDir}#${head}`)).toEqual(EXPECTED);
  }, 600_000);
});

// The TypeScript programs in README.md and docs/*.md, run as written against the local services
// with the variables `scripts/services app-env` prints (docs/local.md): a program must exit 0 by
// itself; a `<!-- server -->` one must print a line, then exit 0 on SIGTERM.
// Conventions: docs/contributing.md#snippets-in-the-docs; type-checking: test/repo/doc-snippets.test.ts.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allBlocks, type DocBlock, ROOT, where, writeSnippets } from "../helpers/doc-blocks.js";
import { createTestQueue, mongoUri, sqsTargets, type TestQueue } from "../helpers/services.js";

const programs = allBlocks().filter((b) => b.lang === "ts" && b.kind !== "fragment");
mkdirSync(join(ROOT, ".cache"), { recursive: true });
const dir = mkdtempSync(join(ROOT, ".cache", "doc-snippets-run-"));
const files = [...writeSnippets(dir, programs)].map(([file, b]) => [where(b), file, b] as const);
const target = sqsTargets().find((t) => t.name !== "fauxqs") ?? (sqsTargets()[0] as never);
const DEADLINE_MS = 60_000;

let queue: TestQueue;
beforeAll(async () => {
  queue = await createTestQueue(target);
});
afterAll(async () => {
  await queue?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs one snippet; resolves with its exit code and output, or the reason it did not finish. */
async function runSnippet(file: string, b: DocBlock) {
  const child = spawn(process.execPath, ["--import", "tsx", file], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      PATH: process.env.PATH,
      TSX_TSCONFIG_PATH: join(dir, "tsconfig.json"),
      TMPDIR: dir,
      PORT: "0",
      AWS_ENDPOINT_URL_SQS: target.endpoint,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "local",
      AWS_SECRET_ACCESS_KEY: "local",
      AUDITQ_QUEUE_URL: queue.queueUrl,
      AUDITQ_MONGODB_URI: mongoUri(),
    },
  });
  let output = "";
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
  const timer = setTimeout(() => child.kill("SIGKILL"), DEADLINE_MS);
  try {
    if (b.kind === "server") {
      const first = await Promise.race([
        once(createInterface({ input: child.stdout }), "line").then(([line]) => String(line)),
        exited.then(() => undefined),
      ]);
      if (first === undefined) return { code: "exited before printing a line", output };
      output += `${first}\n`;
      child.kill("SIGTERM");
    } else {
      child.stdout.on("data", (chunk: Buffer) => {
        output += chunk.toString();
      });
    }
    const [code, signal] = await exited;
    return { code: signal === "SIGKILL" ? `killed after ${DEADLINE_MS} ms` : code, output };
  } finally {
    clearTimeout(timer);
  }
}

describe("TypeScript programs in the docs", () => {
  it.each(files)(
    "%s runs as written",
    { timeout: DEADLINE_MS + 30_000 },
    async (label, file, b) => {
      const { code, output } = await runSnippet(file, b);
      const what =
        b.kind === "server" ? "print a line, then exit 0 on SIGTERM" : "exit 0 by itself";
      expect(code, `${label} must ${what}; its output:\n${output}`).toBe(0);
    },
  );
});

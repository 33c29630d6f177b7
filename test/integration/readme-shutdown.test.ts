// The README's own shutdown snippet, run as written in a child process while SQS is unreachable:
// on SIGTERM, close() keeps the process alive until the records are spooled, the process then
// exits by itself with code 0, and the next process started on the same spool delivers them.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startScript } from "../helpers/script-child.js";
import { createTestQueue, sqsTargets, type TestQueue } from "../helpers/services.js";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PRODUCER = fileURLToPath(new URL("../helpers/batcher-producer.ts", import.meta.url));
const INDEX = fileURLToPath(new URL("../../middleware/index.ts", import.meta.url));

/** The first TypeScript block of the README's "Use" section, verbatim. */
function readmeSnippet(): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const use = readme.slice(readme.indexOf("\n## Use\n"));
  const match = /```ts\n([\s\S]*?)```/.exec(use);
  if (!match?.[1]) throw new Error("README has no ts block under ## Use");
  return match[1];
}

/** The snippet as written, but for where `auditq` comes from: the source, not a package. */
function runnable(snippet: string): string {
  const code = snippet.replace('from "auditq"', `from ${JSON.stringify(INDEX)}`);
  if (code === snippet) throw new Error('README snippet no longer imports from "auditq"');
  return code;
}

// fauxqs names its queues `http://sqs.<region>.<host>:<port>/...`, which is not a URL when the
// host is an IP address: the SDK cannot send to such a QueueUrl's host, which this test needs.
const targets = sqsTargets().filter((t) => t.name !== "fauxqs");

describe.each(targets)("the README's SIGTERM shutdown on $name", (target) => {
  let queue: TestQueue;
  let proxy: TcpProxy;
  let dir: string;
  const children: ChildProcess[] = [];

  beforeEach(async () => {
    queue = await createTestQueue(target);
    proxy = await startTcpProxy(target.endpoint);
    mkdirSync(join(ROOT, ".cache"), { recursive: true });
    dir = mkdtempSync(join(ROOT, ".cache", "readme-shutdown-"));
  });

  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    await proxy.close();
    await queue.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it("spools every record with SQS unreachable, and the next process delivers them", async () => {
    // The queue's URL through the proxy: the SDK sends to the QueueUrl's host, now unreachable.
    const queueUrl = `${proxy.url}${queue.queueUrl.replace(/^https?:\/\/[^/]+/, "")}`;
    await proxy.pause();
    const file = join(dir, "app.ts");
    writeFileSync(file, runnable(readmeSnippet()));
    // The default spool lives under the temp directory: a private one for this test. Port 0,
    // read from its first line: a port picked in advance may be taken meanwhile.
    const env = { ...process.env, TMPDIR: dir, AUDITQ_QUEUE_URL: queueUrl, PORT: "0" };
    const app = spawn(process.execPath, ["--import", "tsx", file], {
      cwd: ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const listening = new Promise<number>((resolve) =>
      // `listening on { address: '::', family: 'IPv6', port: 41235 }`
      createInterface({ input: app.stdout as NodeJS.ReadableStream }).once("line", (line) =>
        resolve(Number(/port: (\d+)/.exec(line)?.[1])),
      ),
    );
    children.push(app);
    let stderr = "";
    app.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const requests = 40;
    const port = await listening;
    for (let i = 0; i < requests; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/orders/${i}/cancel`, { method: "POST" });
      expect(res.status).toBe(204);
    }
    const exited = once(app, "exit");
    const signalled = Date.now();
    app.kill("SIGTERM");
    const [code, signal] = await exited;
    expect({ code, signal, stderr: code === 0 ? "" : stderr }).toEqual({
      code: 0,
      signal: null,
      stderr: "",
    });
    // It stayed up for close(): not the 1–19 ms of a process that nothing keeps alive.
    expect(Date.now() - signalled).toBeGreaterThan(1000);

    await proxy.resume();
    const next = startScript(PRODUCER, {
      TMPDIR: dir,
      QUEUE_URL: queueUrl,
      MODE: "deliver",
      SQS_ENDPOINT: proxy.url,
    });
    children.push(next.child);
    const [nextCode] = await once(next.child, "exit");
    expect(nextCode).toBe(0);
    const { report } = next.lines.at(-1) as {
      report: { sent: number; spooled: number; dropped: number };
    };
    // One record per request.
    expect(report).toEqual({ sent: requests, spooled: 0, dropped: 0 });
  }, 90_000);
});

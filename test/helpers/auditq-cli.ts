// The `auditq` command run from source as a child process, to its exit.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface AuditqRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `auditq ...args` with `env` on top of this process's environment; resolves at exit. */
export async function runAuditq(
  args: string[],
  env: Record<string, string> = {},
): Promise<AuditqRun> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", `${ROOT}sidecar/cli/auditq.ts`, ...args],
    {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...env },
    },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const [code] = await once(child, "exit");
  return { code: code as number | null, stdout, stderr };
}

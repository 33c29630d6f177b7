// The sidecar's CLI (`auditq-sidecar`) run from source as a child process, and its ops server.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface CliProcess {
  child: ChildProcess;
  /** stderr and stdout so far (the JSON log lines). */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs `auditq-sidecar` from source as its own process, configured by env. */
export function spawnCli(
  endpoint: string,
  env: Record<string, string>,
  args: string[] = [],
): CliProcess {
  let out = "";
  const child = spawn(process.execPath, ["--import", "tsx", `${ROOT}sidecar/cli/cli.ts`, ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "local",
      AWS_SECRET_ACCESS_KEY: "local",
      AWS_ENDPOINT_URL_SQS: endpoint,
      AUDITQ_LOG_LEVEL: "warn",
      ...env,
    },
  });
  const keep = (chunk: Buffer) => {
    out = (out + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = once(child, "exit").then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  return { child, output: () => out, exited };
}

/** GET on the CLI's ops server; status and body, or status 0 while it does not answer. */
export async function ops(port: number, path: string): Promise<{ status: number; body: string }> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: res.status, body: await res.text() };
  } catch (err) {
    if (err instanceof TypeError) return { status: 0, body: "" }; // not listening (yet)
    throw err;
  }
}

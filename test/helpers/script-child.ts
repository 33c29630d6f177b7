// Test scripts run as child processes (`node --import tsx`) that report on stdout one JSON
// object per line: started, their lines collected, killed with SIGKILL.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface ScriptChild {
  child: ChildProcess;
  /** Every line printed so far, parsed. */
  lines: unknown[];
  /** The first line, parsed. */
  firstLine: Promise<unknown>;
}

/** Runs `script` with `env` added to this process's environment; stderr goes to the test's. */
export function startScript(script: string, env: Record<string, string>): ScriptChild {
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines: unknown[] = [];
  let first: (line: unknown) => void = () => undefined;
  const firstLine = new Promise<unknown>((resolve) => {
    first = resolve;
  });
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
    lines.push(JSON.parse(line));
    if (lines.length === 1) first(lines[0]);
  });
  return { child, lines, firstLine };
}

/** SIGKILL, resolved once the process has exited. */
export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGKILL");
  await exited;
}

/** Kills every child still running (a test's clean-up) and empties the list. */
export async function killAll(children: ChildProcess[]): Promise<void> {
  await Promise.all(children.splice(0).map(killHard));
}

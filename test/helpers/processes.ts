// Private FerretDB and ElasticMQ instances for tests that stop, kill or restart a service,
// so they never disturb the shared instances other test files use.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { type AddressInfo, connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const SERVICES = fileURLToPath(new URL("../../scripts/services", import.meta.url));

function servicePaths(): Record<string, string> {
  const out = execFileSync(SERVICES, ["paths"], { encoding: "utf8" });
  return Object.fromEntries(
    out
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}

export async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

export interface ServiceProcess {
  readonly port: number;
  /** `http://127.0.0.1:PORT` for ElasticMQ, `mongodb://127.0.0.1:PORT/` for FerretDB. */
  readonly url: string;
  /** Starts it (again, on the same port and data). Resolves once it answers. */
  start(): Promise<void>;
  /** Stops it: SIGTERM, or SIGKILL with `{ kill: true }`. Resolves once it has exited. */
  stop(options?: { kill?: boolean }): Promise<void>;
  /** Stops it and removes its data. */
  dispose(): Promise<void>;
  /** Sends `signal` to the running process, e.g. SIGSTOP and SIGCONT to hang and resume it. */
  signal(signal: NodeJS.Signals): void;
}

function managed(
  port: number,
  url: string,
  command: () => [string, string[]],
  ready: () => Promise<boolean>,
  cleanup: () => void,
): ServiceProcess {
  let child: ChildProcess | undefined;
  let log = "";
  const service: ServiceProcess = {
    port,
    url,
    async start() {
      if (child) return;
      const [file, args] = command();
      log = "";
      const proc = spawn(file, args, { stdio: ["ignore", "pipe", "pipe"] });
      child = proc;
      const keep = (chunk: Buffer) => {
        log = (log + chunk.toString()).slice(-4000);
      };
      proc.stdout?.on("data", keep);
      proc.stderr?.on("data", keep);
      const deadline = Date.now() + 60_000;
      while (!(await ready())) {
        if (proc.exitCode !== null || Date.now() > deadline) {
          await service.stop({ kill: true });
          throw new Error(`${file} did not start on port ${port}:\n${log}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async stop({ kill = false } = {}) {
      const proc = child;
      child = undefined;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = once(proc, "exit");
      proc.kill(kill ? "SIGKILL" : "SIGTERM");
      await exited;
    },
    async dispose() {
      await service.stop({ kill: true });
      cleanup();
    },
    signal(signal) {
      if (!child) throw new Error(`not running on port ${port}`);
      child.kill(signal);
    },
  };
  return service;
}

/** A private FerretDB on a free port with its own SQLite directory. Not started yet. */
export async function privateFerretDB(): Promise<ServiceProcess> {
  const paths = servicePaths();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "auditq-ferretdb-"));
  return managed(
    port,
    `mongodb://127.0.0.1:${port}/`,
    () => [
      paths.FERRETDB_BIN as string,
      [`--listen-addr=127.0.0.1:${port}`, `--sqlite-url=file:${dir}/`, "--log-level=warn"],
    ],
    () => portAnswers(port),
    () => rmSync(dir, { recursive: true, force: true }),
  );
}

/** A private ElasticMQ on a free port. In-memory: a restart loses its queues and messages. */
export async function privateElasticMQ(): Promise<ServiceProcess> {
  const paths = servicePaths();
  const port = await freePort();
  return managed(
    port,
    `http://127.0.0.1:${port}`,
    () => [
      paths.JAVA as string,
      [
        `-Dconfig.file=${paths.ELASTICMQ_CONF}`,
        `-Dnode-address.port=${port}`,
        `-Drest-sqs.bind-port=${port}`,
        "-cp",
        paths.ELASTICMQ_CLASSPATH as string,
        "org.elasticmq.server.Main",
      ],
    ],
    async () => {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/?Action=ListQueues`, { method: "POST" });
        return res.ok;
      } catch (err) {
        if (err instanceof TypeError) return false; // fetch failed: not listening yet
        throw err;
      }
    },
    () => undefined,
  );
}

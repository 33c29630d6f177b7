// The setup most sidecar integration tests share: a fresh queue and database for each test,
// sidecars (in-process or as CLI children) on them, and everything disposed after the test.
import { afterEach, beforeEach } from "vitest";
import type { Sidecar, SidecarOptions } from "../../sidecar/index.js";
import { type CliProcess, metricValue, spawnCli } from "../integration/sidecar-fixtures.js";
import { freePort } from "./processes.js";
import {
  createTestDb,
  createTestQueue,
  mongoUri,
  type SqsTarget,
  type TestDb,
  type TestQueue,
} from "./services.js";
import { testSidecar } from "./sidecar.js";

export interface SidecarRig {
  /** This test's queue. */
  readonly queue: TestQueue;
  /** This test's database. */
  readonly mongo: TestDb;
  /** The in-process sidecar `start()` made, if any. */
  readonly sidecar: Sidecar;
  /** Creates and starts an in-process sidecar on the queue and database; stopped after the test. */
  start(options?: Partial<SidecarOptions>): Promise<Sidecar>;
  /**
   * Runs `auditq-sidecar` as a child on the queue and database, its ops server on a free port;
   * `env` adds or overrides settings. Killed (SIGKILL) after the test if still running.
   */
  spawn(env?: Record<string, string>): Promise<{ cli: CliProcess; port: number }>;
  /** The value of `name` (a regular expression) in the in-process sidecar's metrics. */
  metric(name: string): Promise<number>;
}

/**
 * Registers beforeEach/afterEach hooks in the calling `describe` and returns the rig they fill.
 * Read its fields inside tests and hooks only (they change for every test).
 */
export function useSidecarRig(target: SqsTarget): SidecarRig {
  let queue: TestQueue | undefined;
  let mongo: TestDb | undefined;
  let sidecar: Sidecar | undefined;
  const children: CliProcess[] = [];
  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined)
      throw new Error(`the rig has no ${what} (outside a test, or not started)`);
    return value;
  };

  beforeEach(async () => {
    queue = await createTestQueue(target);
    mongo = await createTestDb();
  });

  afterEach(async () => {
    for (const c of children.splice(0)) {
      if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill("SIGKILL");
      await c.exited;
    }
    await sidecar?.stop();
    sidecar = undefined;
    await queue?.dispose();
    await mongo?.dispose();
  });

  const rig: SidecarRig = {
    get queue() {
      return need(queue, "queue");
    },
    get mongo() {
      return need(mongo, "database");
    },
    get sidecar() {
      return need(sidecar, "sidecar");
    },
    async start(options = {}) {
      sidecar = testSidecar(target, rig.queue, rig.mongo, options);
      await sidecar.start();
      return sidecar;
    },
    async spawn(env = {}) {
      const port = await freePort();
      const cli = spawnCli(target.endpoint, {
        AUDITQ_QUEUE_URL: rig.queue.queueUrl,
        AUDITQ_MONGODB_URI: mongoUri(),
        AUDITQ_DATABASE: rig.mongo.name,
        AUDITQ_METRICS_PORT: String(port),
        ...env,
      });
      children.push(cli);
      return { cli, port };
    },
    async metric(name) {
      return metricValue(await rig.sidecar.registry.metrics(), name);
    },
  };
  return rig;
}

// How the sidecar's integration tests run a sidecar: in process on a test queue and database,
// polling briskly (`testSidecar`), and the per-test rig that makes a fresh queue and database,
// starts sidecars on them (in process or as CLI children) and disposes of everything after.
import { afterEach, beforeEach } from "vitest";
import { createSidecar, type Sidecar, type SidecarOptions } from "../../sidecar/index.js";
import { silentLogger } from "./logger.js";
import { metricValue } from "./metric-value.js";
import { freePort } from "./processes.js";
import {
  createTestDb,
  createTestQueue,
  mongoUri,
  type SqsTarget,
  sqsClient,
  type TestDb,
  type TestQueue,
} from "./services.js";
import { type CliProcess, spawnCli } from "./sidecar-cli.js";

/** A sidecar on `queue` and `mongo`, polling briskly and logging nothing; not started. */
export function testSidecar(
  target: SqsTarget,
  queue: TestQueue,
  mongo: TestDb,
  options: Partial<SidecarOptions> = {},
): Sidecar {
  return createSidecar({
    queueUrl: queue.queueUrl,
    mongo: mongoUri(),
    database: mongo.name,
    sqs: sqsClient(target),
    waitTimeSeconds: 1,
    logger: silentLogger,
    ...options,
  });
}

export interface SidecarRig {
  /** This test's queue. */
  readonly queue: TestQueue;
  /** This test's database. */
  readonly mongo: TestDb;
  /** The first in-process sidecar `create()` or `start()` made. */
  readonly sidecar: Sidecar;
  /** Creates an in-process sidecar on the queue and database, not started; stopped after the test. */
  create(options?: Partial<SidecarOptions>): Sidecar;
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
  const sidecars: Sidecar[] = [];
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
    await Promise.all(sidecars.splice(0).map((s) => s.stop()));
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
      return need(sidecars[0], "sidecar");
    },
    create(options = {}) {
      const sidecar = testSidecar(target, rig.queue, rig.mongo, options);
      sidecars.push(sidecar);
      return sidecar;
    },
    async start(options = {}) {
      const sidecar = rig.create(options);
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

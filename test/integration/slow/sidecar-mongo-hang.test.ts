// A hung MongoDB (its process stopped with SIGSTOP): writes fail within mongoTimeoutMs, the
// sidecar shows not ready, releases the messages, and after SIGCONT stores everything.

import { MongoClient } from "mongodb";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { metricValue } from "../../helpers/metric-value.js";
import { freePort, privateFerretDB, type ServiceProcess } from "../../helpers/processes.js";
import { sendRecords } from "../../helpers/queue-records.js";
import {
  createTestQueue,
  type SqsTarget,
  sqsTargets,
  type TestQueue,
  uniqueName,
  waitFor,
} from "../../helpers/services.js";
import { type CliProcess, ops, spawnCli } from "../../helpers/sidecar-cli.js";

const target = sqsTargets()[0] as SqsTarget;
const TIMEOUT_MS = 3_000;

describe(`sidecar on a hung MongoDB (${target.name})`, () => {
  let ferret: ServiceProcess;
  let queue: TestQueue;
  let cli: CliProcess | undefined;

  beforeEach(async () => {
    // Private: stopping the shared FerretDB would hang every other test file.
    ferret = await privateFerretDB();
    await ferret.start();
    queue = await createTestQueue(target);
  });

  afterEach(async () => {
    ferret.signal("SIGCONT");
    if (cli && cli.child.exitCode === null && cli.child.signalCode === null) {
      cli.child.kill("SIGKILL");
      await cli.exited;
    }
    await queue.dispose();
    await ferret.dispose();
  });

  it("fails writes within the deadline, shows not ready, releases, recovers with nothing lost", async () => {
    const total = 4_000;
    await sendRecords(queue.sqs, queue.queueUrl, total, 50);
    const database = uniqueName("auditq_hang").replace(/-/g, "_");
    const port = await freePort();
    cli = spawnCli(target.endpoint, {
      AUDITQ_QUEUE_URL: queue.queueUrl,
      AUDITQ_MONGODB_URI: ferret.url,
      AUDITQ_DATABASE: database,
      AUDITQ_METRICS_PORT: String(port),
      AUDITQ_MONGO_TIMEOUT_MS: String(TIMEOUT_MS),
      // Slow enough that writes are in flight when MongoDB hangs.
      AUDITQ_MAX_WRITE_RATE: "400",
      AUDITQ_VISIBILITY_TIMEOUT_SECONDS: "20",
      AUDITQ_WAIT_TIME_SECONDS: "1",
    });
    const metrics = async () => (await ops(port, "/metrics")).body;
    await waitFor(
      "500 records written",
      async () => metricValue(await metrics(), "auditq_sidecar_records_written_total"),
      (n) => n >= 500,
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    expect((await ops(port, "/readyz")).status).toBe(200);

    ferret.signal("SIGSTOP");
    const hungAt = Date.now();
    const notReady = await waitFor(
      "not ready",
      async () => ({ status: (await ops(port, "/readyz")).status, at: Date.now() }),
      (r) => r.status === 503,
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    // The write in flight failed by its deadline (not by a socket timeout minutes later).
    expect(notReady.at - hungAt).toBeLessThan(TIMEOUT_MS * 2);
    const text = await metrics();
    expect(metricValue(text, "auditq_sidecar_ready")).toBe(0);
    expect(
      metricValue(text, 'auditq_sidecar_mongo_timeouts_total\\{operation="insert"\\}'),
    ).toBeGreaterThan(0);
    // Every write in flight fails by its deadline, and every message goes back to the queue
    // instead of staying hidden behind heartbeats for as long as MongoDB hangs.
    const released = await waitFor(
      "nothing in hand, nothing in flight",
      async () => {
        const m = await metrics();
        return {
          inHand: metricValue(m, "auditq_sidecar_records_in_hand"),
          inflight: metricValue(m, "auditq_sidecar_writes_inflight"),
          released: metricValue(m, "auditq_sidecar_messages_released_total"),
        };
      },
      (v) => v.inHand === 0 && v.inflight === 0,
      { timeoutMs: TIMEOUT_MS * 2 + 5_000, intervalMs: 100 },
    );
    expect(released.released).toBeGreaterThan(0);
    expect((await ops(port, "/readyz")).status).toBe(503);

    ferret.signal("SIGCONT");
    await waitFor(
      "ready again",
      async () => (await ops(port, "/readyz")).status,
      (s) => s === 200,
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    const client = new MongoClient(ferret.url);
    try {
      const records = client.db(database).collection("records");
      // Nothing lost: every record stored. (Messages whose records were written just before the
      // hang may still come back as duplicates; that is dedup's job, not a loss.)
      await waitFor(
        "every record stored",
        () => records.countDocuments(),
        (n) => n >= total,
        { timeoutMs: 150_000, intervalMs: 500 },
      );
      expect(await records.countDocuments()).toBe(total);
    } finally {
      await client.close();
    }
  }, 280_000);
});

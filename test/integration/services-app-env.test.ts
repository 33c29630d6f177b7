// `scripts/services app-env`, the one command docs/local.md gives a newcomer: it creates the
// queue and prints what an app and auditq-sidecar need against the local services. With only
// those variables (none of the tests' own), an app's request becomes a record in MongoDB.
import { execFile, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { createTestDb, mongoUri, sqsTargets, uniqueName, waitFor } from "../helpers/services.js";
import { spawnCli } from "../helpers/sidecar-cli.js";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SERVICES = join(ROOT, "scripts", "services");
const INDEX = join(ROOT, "middleware", "index.ts");

// Run against services that scripts/services manages (not AUDITQ_TEST_* ones from elsewhere).
const managed = spawnSync(SERVICES, ["status"], { stdio: "ignore" }).status === 0;

const APP = `import express from "express";
import { auditq } from ${JSON.stringify(INDEX)};
const audit = auditq({ queueUrl: process.env.AUDITQ_QUEUE_URL as string, lingerMs: 0, spool: false });
const app = express();
app.use(audit);
app.post("/orders/:id/cancel", (q, r) => { q.audit.action("order.cancel"); r.sendStatus(204); });
const server = app.listen(0, "127.0.0.1", async () => {
  const { port } = server.address() as { port: number };
  const res = await fetch("http://127.0.0.1:" + port + "/orders/7/cancel", { method: "POST" });
  server.close();
  const report = await audit.close();
  process.stdout.write(JSON.stringify({ status: res.status, report }));
});
`;

mkdirSync(join(ROOT, ".cache"), { recursive: true });
const dir = mkdtempSync(join(ROOT, ".cache", "app-env-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!managed)("scripts/services app-env", () => {
  it("creates the queue and prints what the app and the sidecar need; with only that, records land", async () => {
    const queueName = uniqueName("app-env");
    const { stdout } = await run(SERVICES, ["app-env", "--queue-name", queueName]);
    const vars = Object.fromEntries(
      [...stdout.matchAll(/^export ([A-Z0-9_]+)=(.*)$/gm)].map((m) => [m[1], m[2]]),
    );
    // ElasticMQ, or the same server named by AUDITQ_TEST_SQS_ENDPOINT.
    const elasticmq = sqsTargets().find((t) => t.name !== "fauxqs");
    expect(vars).toEqual({
      AWS_ENDPOINT_URL_SQS: elasticmq?.endpoint,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "local",
      AWS_SECRET_ACCESS_KEY: "local",
      AUDITQ_QUEUE_URL: expect.stringMatching(new RegExp(`/${queueName}$`)),
      AUDITQ_MONGODB_URI: mongoUri(),
    });
    // Run again: the queue exists already, the same lines come out.
    expect((await run(SERVICES, ["app-env", "--queue-name", queueName])).stdout).toBe(stdout);

    // The app: nothing but PATH and the printed variables.
    const file = join(dir, "app.ts");
    writeFileSync(file, APP);
    const app = await run(process.execPath, ["--import", "tsx", file], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...vars },
    });
    expect(JSON.parse(app.stdout)).toMatchObject({ status: 204 });

    const db = await createTestDb();
    // The sidecar: the printed variables, and a database of the test's own.
    const clean = Object.fromEntries(
      Object.keys(process.env)
        .filter((k) => k.startsWith("AUDITQ_") || k.startsWith("AWS_"))
        .map((k) => [k, ""]),
    );
    const sidecar = spawnCli(vars.AWS_ENDPOINT_URL_SQS as string, {
      ...clean,
      ...vars,
      AUDITQ_DATABASE: db.name,
      AUDITQ_METRICS_PORT: "0",
      AUDITQ_WAIT_TIME_SECONDS: "1",
    });
    try {
      const records = await waitFor(
        `the record in ${db.name}.records (sidecar output: ${sidecar.output()})`,
        () => db.db.collection("records").find({}).toArray(),
        (found) => found.length > 0,
        { timeoutMs: 60_000 },
      );
      expect(records.map((r) => r.action)).toEqual(["order.cancel"]);
    } finally {
      sidecar.child.kill("SIGTERM");
      await sidecar.exited;
      await db.dispose();
    }
  }, 180_000);
});

// Every start-up error a user can cause in auditq-sidecar: exit code 2, the setting named with its
// fix, no stack trace, no password. Spawned as a user runs it; none of them reaches a service.
import { once } from "node:events";
import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnCli } from "../helpers/sidecar-cli.js";

const QUEUE_URL = "http://127.0.0.1:1/000000000000/startup-errors";
const BASE = { AUDITQ_QUEUE_URL: QUEUE_URL, AUDITQ_MONGODB_URI: "mongodb://127.0.0.1:1/" };

/** Runs the CLI until it exits by itself; its code and output. */
async function start(env: Record<string, string>) {
  const cli = spawnCli("http://127.0.0.1:1", { AUDITQ_METRICS_PORT: "0", ...env });
  const { code } = await cli.exited;
  return { code, output: cli.output() };
}

let taken: Server;
let takenPort: number;
beforeAll(async () => {
  taken = createServer().listen(0, "0.0.0.0");
  await once(taken, "listening");
  takenPort = (taken.address() as { port: number }).port;
});
afterAll(() => {
  taken.close();
});

describe.concurrent("auditq-sidecar start-up errors", () => {
  it.each<{ what: string; env: Record<string, string>; says: RegExp }>([
    {
      what: "an option the MongoDB driver does not know",
      env: { AUDITQ_MONGODB_URI: "mongodb://admin:S3cretPassw0rd@127.0.0.1:1/?replicaSett=rs0" },
      says: /AUDITQ_MONGODB_URI \(--mongodb-uri\): the MongoDB driver refuses the connection string: option replicasett is not supported\. Fix the option/,
    },
    {
      what: "a malformed option value",
      env: { AUDITQ_MONGODB_URI: "mongodb://127.0.0.1:1/?maxPoolSize=lots" },
      says: /AUDITQ_MONGODB_URI \(--mongodb-uri\): .*maxPoolSize/,
    },
    {
      what: "a variable near a setting",
      env: { AUDITQ_MAX_WRITE_RAT: "100" },
      says: /AUDITQ_MAX_WRITE_RAT is not a setting; did you mean AUDITQ_MAX_WRITE_RATE\? \(or set AUDITQ_ALLOW_UNKNOWN_ENV/,
    },
    {
      what: "another tool's name for the connection string",
      env: { AUDITQ_MONGODB_URI: "", AUDITQ_MONGO_URI: "mongodb://127.0.0.1:1/" },
      says: /AUDITQ_MONGODB_URI \(--mongodb-uri\) is not set[\s\S]*AUDITQ_MONGO_URI is not a setting; did you mean AUDITQ_MONGODB_URI\?/,
    },
    {
      what: "no AWS region",
      env: {
        AWS_REGION: "",
        AWS_DEFAULT_REGION: "",
        AWS_PROFILE: "",
        AWS_CONFIG_FILE: "/nonexistent",
      },
      says: /AWS_REGION: the AWS SDK has no usable region \(.*\); set AWS_REGION to the queue's region/,
    },
    {
      what: "a metrics host that is no address of this machine",
      env: { AUDITQ_METRICS_HOST: "192.0.2.1" },
      says: /AUDITQ_METRICS_HOST \(--metrics-host\): "192\.0\.2\.1" is no address of this machine \(EADDRNOTAVAIL\)/,
    },
  ])("$what: exit 2, the setting and its fix, no stack", async ({ env, says }) => {
    const { code, output } = await start({ ...BASE, ...env });
    expect({ code, output }).toEqual({ code: 2, output: expect.stringMatching(says) });
    expect(output).not.toMatch(/^\s+at /m);
    expect(output).not.toContain("S3cretPassw0rd");
  });

  it("a metrics port in use: exit 2, the port and its fix, no stack", async () => {
    const { code, output } = await start({ ...BASE, AUDITQ_METRICS_PORT: String(takenPort) });
    expect({ code, output }).toEqual({
      code: 2,
      output: expect.stringContaining(
        `AUDITQ_METRICS_PORT (--metrics-port): 0.0.0.0:${takenPort} is already in use by another process; choose a free port`,
      ),
    });
    expect(output).not.toMatch(/^\s+at /m);
  });
});

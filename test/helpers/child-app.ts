// What the child processes of the kill -9 tests share: their environment and the audited app.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import type { AuditqMiddleware } from "../../middleware/index.js";

/** The environment variable `name`; throws when it is missing or empty. */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

/**
 * Serves GET /orders/:id through `audit` on a free loopback port, and GET /jobs/:id, whose
 * handler leaves its request out and answers once `audit.record()` has taken the job's record.
 */
export async function listenAudited(
  audit: AuditqMiddleware,
): Promise<{ port: number; server: Server }> {
  const app = express();
  app.use(audit);
  app.get("/orders/:id", (req, res) => {
    res.json({ id: req.params.id });
  });
  app.get("/jobs/:id", (req, res) => {
    req.audit.skip();
    const id = audit.record({ action: "job.done", target: { type: "job", id: req.params.id } });
    res.json({ id: id.toHexString() });
  });
  const server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  return { port: (server.address() as AddressInfo).port, server };
}

/** The SQS client settings of a child app talking to the local SQS at `SQS_ENDPOINT`. */
export function localSqs() {
  return {
    endpoint: requiredEnv("SQS_ENDPOINT"),
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  };
}

// What the child processes of the kill -9 tests share: their environment and the audited app.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import express, { type RequestHandler } from "express";

/** The environment variable `name`; throws when it is missing or empty. */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

/** Serves GET /orders/:id through `audit` on a free loopback port. */
export async function listenAudited(
  audit: RequestHandler,
): Promise<{ port: number; server: Server }> {
  const app = express();
  app.use(audit);
  app.get("/orders/:id", (req, res) => {
    res.json({ id: req.params.id });
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

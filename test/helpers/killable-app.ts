// An audited Express app for the kill -9 tests, run as a child process with `node --import tsx`.
//   MODE=serve    serve GET /orders/:id and print {"port":N}; runs until killed
//   MODE=deliver  send what earlier processes left in the spool, print {"report":{...}}, exit
// QUEUE_URL, SQS_ENDPOINT, SPOOL_DIR (the spool's base directory), DURABILITY (memory | disk).
import type { AddressInfo } from "node:net";
import express from "express";
import { auditq } from "../../middleware/index.js";
import { silentLogger } from "./logger.js";

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const durability = env("DURABILITY");
if (durability !== "memory" && durability !== "disk") throw new Error(`DURABILITY=${durability}`);

const audit = auditq({
  queueUrl: env("QUEUE_URL"),
  sqs: {
    endpoint: env("SQS_ENDPOINT"),
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  },
  spool: { dir: env("SPOOL_DIR") },
  durability,
  logger: silentLogger,
});

if (env("MODE") === "deliver") {
  await audit.flush();
  const report = await audit.close();
  process.stdout.write(`${JSON.stringify({ report })}\n`);
} else {
  const app = express();
  app.use(audit);
  app.get("/orders/:id", (req, res) => {
    res.json({ id: req.params.id });
  });
  const server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
}

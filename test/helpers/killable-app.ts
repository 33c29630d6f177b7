// An audited Express app for the kill -9 tests, run as a child process with `node --import tsx`.
//   MODE=serve    serve GET /orders/:id and print {"port":N}; runs until killed
//   MODE=deliver  send what earlier processes left in the spool, print {"report":{...}}, exit
// QUEUE_URL, SQS_ENDPOINT, SPOOL_DIR (the spool's base directory), DURABILITY (memory | disk).
import { auditq } from "../../middleware/index.js";
import { requiredEnv as env, listenAudited, localSqs } from "./child-app.js";
import { silentLogger } from "./logger.js";

const durability = env("DURABILITY");
if (durability !== "memory" && durability !== "disk") throw new Error(`DURABILITY=${durability}`);

const audit = auditq({
  queueUrl: env("QUEUE_URL"),
  sqs: localSqs(),
  spool: { dir: env("SPOOL_DIR") },
  durability,
  logger: silentLogger,
});

if (env("MODE") === "deliver") {
  await audit.flush();
  const report = await audit.close();
  process.stdout.write(`${JSON.stringify({ report })}\n`);
} else {
  const { port } = await listenAudited(audit);
  process.stdout.write(`${JSON.stringify({ port })}\n`);
}

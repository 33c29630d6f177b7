// A producer process for the kill -9 test: an Express app with auditq and a spool, fed by
// requests to itself. Run with `node --import tsx`; configured by environment variables.
//   MODE=produce  send requests forever; print {"spooled":N} lines as the spool fills
//   MODE=deliver  flush the spool left by an earlier process, print {"report":{...}}, exit
//   MODE=signal   send 200 requests, print {"ready":true}, then wait for SIGTERM
//                 (closeOnSignals: close() spools what SQS did not take, then the process exits)
// SPOOL_DIR: the spool's base directory, spooling as soon as SQS fails; without it, the default
// spool (under TMPDIR, default afterMs). ID_PREFIX: put before the ids in the request paths.
import { auditq } from "../../middleware/index.js";
import { requiredEnv as env, listenAudited, localSqs } from "./child-app.js";
import { silentLogger } from "./logger.js";

const audit = auditq({
  queueUrl: env("QUEUE_URL"),
  sqs: localSqs(),
  ...(process.env.SPOOL_DIR ? { spool: { dir: process.env.SPOOL_DIR, afterMs: 0 } } : {}),
  lingerMs: 50,
  // SIGTERM with SQS down: send for 2.25 s, then spool the rest (0.75 s reserved for that).
  closeTimeoutMs: 3000,
  logger: silentLogger,
});

async function spooled(): Promise<number> {
  const metric = await audit.registry.getSingleMetric("auditq_spool_records")?.get();
  return metric?.values[0]?.value ?? 0;
}

if (env("MODE") === "signal") {
  audit.closeOnSignals();
  const { port, server } = await listenAudited(audit);
  for (let i = 0; i < 200; i++) await fetch(`http://127.0.0.1:${port}/orders/${i}`);
  server.close();
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  // Stay up until the signal: an unref'd server would let the process end on its own.
  setInterval(() => undefined, 1000);
} else if (env("MODE") === "deliver") {
  await audit.flush();
  const report = await audit.close();
  process.stdout.write(`${JSON.stringify({ report })}\n`);
} else {
  const idPrefix = process.env.ID_PREFIX ?? "";
  const { port } = await listenAudited(audit);
  setInterval(() => {
    void spooled().then((n) => process.stdout.write(`${JSON.stringify({ spooled: n })}\n`));
  }, 50);
  for (let i = 0; ; i += 20) {
    await Promise.all(
      Array.from({ length: 20 }, (_, j) =>
        fetch(`http://127.0.0.1:${port}/orders/${idPrefix}${i + j}`).then((r) => r.arrayBuffer()),
      ),
    );
  }
}

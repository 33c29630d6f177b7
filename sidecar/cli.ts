#!/usr/bin/env node
// The auditq-sidecar command: reads env once, starts the sidecar and its ops server, wires signals.
import { pino } from "pino";
import { collectDefaultMetrics, Registry } from "prom-client";
import { ConfigError } from "../shared/errors.js";
import { helpText, readConfig } from "./config.js";
import { startOpsServer } from "./http.js";
import { createSidecar } from "./sidecar.js";

const SHUTDOWN_DEADLINE_MS = 25_000;

async function main(): Promise<number> {
  if (process.argv.includes("--help") || process.argv.includes("-h")) {
    console.log(helpText());
    return 0;
  }
  let config: ReturnType<typeof readConfig>;
  try {
    config = readConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(
        `auditq-sidecar: ${err.message}\n\nRun auditq-sidecar --help for all settings.`,
      );
      return 2;
    }
    throw err;
  }
  const logger = pino({ level: config.logLevel, base: { service: "auditq-sidecar" } });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const sidecar = createSidecar({
    queueUrl: config.queueUrl,
    mongo: config.mongodbUri,
    database: config.database,
    collection: config.collection,
    registry,
    logger,
  });
  const server = await startOpsServer(config.metricsPort, registry, () => sidecar.isReady());
  logger.info({ port: config.metricsPort }, "ops server listening");

  const stopped = new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info({ signal }, "stopping");
      const deadline = setTimeout(() => {
        logger.error({ deadlineMs: SHUTDOWN_DEADLINE_MS }, "shutdown deadline passed; exiting");
        resolve(1);
      }, SHUTDOWN_DEADLINE_MS);
      deadline.unref();
      sidecar
        .stop()
        .then(() => resolve(0))
        .catch((err: unknown) => {
          logger.error({ err }, "error while stopping");
          resolve(1);
        })
        .finally(() => {
          clearTimeout(deadline);
          server.close();
        });
    };
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
  });

  await sidecar.start();
  return stopped;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error("auditq-sidecar: fatal:", err);
    process.exitCode = 1;
  },
);

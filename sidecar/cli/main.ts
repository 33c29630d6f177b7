// The auditq-sidecar command: reads env and flags once, runs the sidecar and its ops server.
// Run by cli.ts once it has found the dependencies; wires signals. Only bad configuration stops
// it at start; unreachable services are retried.
import { existsSync, readFileSync } from "node:fs";
import { SQSClient } from "@aws-sdk/client-sqs";
import { pino } from "pino";
import { collectDefaultMetrics, Registry } from "prom-client";
import { ConfigError } from "../../shared/util/errors.js";
import { DEFAULTS } from "../config/resolve.js";
import { startOpsServer } from "../http.js";
import { createSidecar } from "../sidecar.js";
import { type CliConfig, EXIT_GRACE_MS, helpText, readConfig } from "./args.js";
import { CREATE_QUEUE_HELP, createAuditQueues, parseCreateQueueArgs } from "./create-queue.js";

/**
 * The package's version, from its package.json: one level above the built dist/ files, two above
 * this source file (run from source by tsx).
 */
function version(): string {
  const url = [
    new URL("../package.json", import.meta.url),
    new URL("../../package.json", import.meta.url),
  ].find((candidate) => existsSync(candidate));
  if (!url) throw new Error("auditq's package.json was not found above the sidecar command");
  return String(JSON.parse(readFileSync(url, "utf8")).version);
}

/** `auditq-sidecar create-queue ...`: prints the queues as JSON; 2 on bad flags, 1 on SQS errors. */
async function createQueue(argv: readonly string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(CREATE_QUEUE_HELP);
    return 0;
  }
  const sqs = new SQSClient({});
  try {
    const created = await createAuditQueues(sqs, parseCreateQueueArgs(argv));
    console.log(JSON.stringify(created, null, 2));
    return 0;
  } catch (err) {
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    console.error(`auditq-sidecar create-queue: ${message}`);
    return err instanceof ConfigError ? 2 : 1;
  } finally {
    sqs.destroy();
  }
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv[0] === "create-queue") return createQueue(argv.slice(1));
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(
      `${helpText()}\n\nauditq-sidecar create-queue --help: create the queue and its dead-letter queue.`,
    );
    return 0;
  }
  if (argv.includes("--version")) {
    console.log(version());
    return 0;
  }
  let config: CliConfig;
  try {
    config = readConfig(process.env, argv);
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
  for (const warning of config.warnings) logger.warn({}, warning);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const sidecar = createSidecar({ ...config.options, registry, logger });
  const server = await startOpsServer(registry, () => sidecar.isReady(), {
    port: config.metricsPort,
    host: config.metricsHost,
    maxConnections: config.metricsMaxConnections,
  });
  logger.info({ host: config.metricsHost, port: config.metricsPort }, "ops server listening");

  const shutdownMs = config.options.shutdownTimeoutMs ?? DEFAULTS.shutdownTimeoutMs;
  const stopped = new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info({ signal }, "stopping");
      const deadline = setTimeout(() => {
        logger.error(
          { deadlineMs: shutdownMs + EXIT_GRACE_MS },
          "shutdown deadline passed; exiting",
        );
        resolve(1);
      }, shutdownMs + EXIT_GRACE_MS);
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
          server.closeAllConnections();
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
    // Anything still open (a socket the SDK keeps alive) must not hold the process past its deadline.
    setTimeout(() => process.exit(code), 1_000).unref();
  },
  (err: unknown) => {
    console.error("auditq-sidecar: fatal:", err);
    process.exitCode = 1;
  },
);

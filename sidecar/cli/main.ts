// The auditq-sidecar command: reads env and flags once, runs the sidecar and its ops server.
// Run by cli.ts once it has answered --help and found the dependencies; wires signals. Only bad
// configuration stops it at start; unreachable services are retried.
import { inspect } from "node:util";
import { SQSClient } from "@aws-sdk/client-sqs";
import { pino } from "pino";
import { collectDefaultMetrics, Registry } from "prom-client";
import { ConfigError } from "../../shared/util/errors.js";
import { redactCredentials } from "../../shared/util/url-credentials.js";
import { DEFAULTS } from "../config/resolve.js";
import { startOpsServer } from "../http.js";
import { createSidecar } from "../sidecar.js";
import { type CliConfig, EXIT_GRACE_MS, readConfig } from "./args.js";
import { createAuditQueues, parseCreateQueueArgs } from "./create-queue.js";
import { startupConfigError } from "./startup-error.js";

/** One line for a configuration error, exit code 2: what the README promises. */
function configFailure(err: ConfigError): number {
  console.error(`auditq-sidecar: ${err.message}\n\nRun auditq-sidecar --help for all settings.`);
  return 2;
}

/** `auditq-sidecar create-queue ...`: prints the queues as JSON; 2 on bad flags, 1 on SQS errors. */
async function createQueue(argv: readonly string[]): Promise<number> {
  const sqs = new SQSClient({});
  try {
    const created = await createAuditQueues(sqs, parseCreateQueueArgs(argv));
    console.log(JSON.stringify(created, null, 2));
    return 0;
  } catch (err) {
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    console.error(`auditq-sidecar create-queue: ${redactCredentials(message)}`);
    return err instanceof ConfigError ? 2 : 1;
  } finally {
    sqs.destroy();
  }
}

/**
 * The region the AWS SDK finds (AWS_REGION, a profile's): without one, or with one that is no
 * region, every SQS call fails and the sidecar would retry for ever. A ConfigError then.
 */
async function missingRegion(): Promise<ConfigError | undefined> {
  const probe = new SQSClient({});
  try {
    await probe.config.region();
    return undefined;
  } catch (err) {
    // The SDK's words when its region chain finds nothing; anything else is not ours to name.
    if (!(err instanceof Error && /region is missing|region not accepted/i.test(err.message)))
      throw err;
    return new ConfigError(
      `AWS_REGION: the AWS SDK has no usable region (${err.message}); set AWS_REGION to the queue's region, e.g. eu-west-1`,
    );
  } finally {
    probe.destroy();
  }
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv[0] === "create-queue") return createQueue(argv.slice(1));
  let config: CliConfig;
  try {
    config = readConfig(process.env, argv);
  } catch (err) {
    if (err instanceof ConfigError) return configFailure(err);
    throw err;
  }
  const noRegion = await missingRegion();
  if (noRegion) return configFailure(noRegion);
  const logger = pino({
    level: config.logLevel,
    base: { service: "auditq-sidecar" },
    // A MongoDB driver error may quote the connection string: no line carries its password.
    hooks: { streamWrite: redactCredentials },
  });
  for (const warning of config.warnings) logger.warn({}, warning);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const bind = { host: config.metricsHost, port: config.metricsPort };
  let sidecar: ReturnType<typeof createSidecar>;
  let server: Awaited<ReturnType<typeof startOpsServer>>;
  try {
    sidecar = createSidecar({ ...config.options, registry, logger });
    server = await startOpsServer(registry, () => sidecar.isReady(), {
      ...bind,
      maxConnections: config.metricsMaxConnections,
    });
  } catch (err) {
    // A connection string the driver refuses, a port in use: the user's to fix, said in one line.
    const explained = startupConfigError(err, bind);
    if (explained) return configFailure(explained);
    throw err;
  }
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
    console.error(`auditq-sidecar: fatal: ${redactCredentials(inspect(err))}`);
    process.exitCode = 1;
  },
);

// The auditq-sidecar command, once cli.ts found its dependencies: reads env and flags once,
// starts the sidecar and its ops server, wires signals. Only bad configuration stops it at
// start; unreachable services are retried.
import { readFileSync } from "node:fs";
import { pino } from "pino";
import { collectDefaultMetrics, Registry } from "prom-client";
import { ConfigError } from "../shared/errors.js";
import { type CliConfig, helpText, readConfig } from "./cli-args.js";
import { startOpsServer } from "./http.js";
import { DEFAULTS } from "./options.js";
import { createSidecar } from "./sidecar.js";

/** Time the process is given after the sidecar's own deadline to close the ops server and exit. */
const EXIT_GRACE_MS = 2_000;

/** The package's version: package.json sits one level above sidecar/cli-main.ts and the dist/ files. */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  return String(pkg.version);
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(helpText());
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
  const server = await startOpsServer(
    config.metricsPort,
    registry,
    () => sidecar.isReady(),
    config.metricsHost,
  );
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

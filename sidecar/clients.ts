// The one place the sidecar builds what it talks through: MongoDB and SQS clients, the registry,
// the logger. Building connects nothing: `start()` does.
import { SQSClient } from "@aws-sdk/client-sqs";
import { MongoClient } from "mongodb";
import { Registry } from "prom-client";
import { consoleLogger, type Logger } from "../shared/logger.js";
import type { Config } from "./options.js";

/** How long the driver looks for a server before an operation fails (and is retried). */
const SERVER_SELECTION_TIMEOUT_MS = 5_000;

export interface SidecarClients {
  readonly mongo: MongoClient;
  /** The sidecar made `mongo` and closes it at stop; a client passed in is left to its owner. */
  readonly ownsMongo: boolean;
  readonly sqs: SQSClient;
  readonly ownsSqs: boolean;
  readonly registry: Registry;
  readonly logger: Logger;
}

/** Builds the clients `config` does not give. */
export function createClients(config: Config): SidecarClients {
  const ownsMongo = !(config.mongo instanceof MongoClient);
  const ownsSqs = !(config.sqs instanceof SQSClient);
  return {
    mongo:
      config.mongo instanceof MongoClient
        ? config.mongo
        : new MongoClient(String(config.mongo), {
            serverSelectionTimeoutMS: SERVER_SELECTION_TIMEOUT_MS,
          }),
    ownsMongo,
    sqs: config.sqs instanceof SQSClient ? config.sqs : new SQSClient(config.sqs ?? {}),
    ownsSqs,
    registry: config.registry ?? new Registry(),
    logger: config.logger ?? consoleLogger,
  };
}

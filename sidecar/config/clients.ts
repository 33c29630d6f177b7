// Builds what the sidecar talks through: MongoDB and SQS clients, the registry, the logger.
// The one place they are built; building connects nothing: `start()` does.
import { SQSClient } from "@aws-sdk/client-sqs";
import { MongoClient } from "mongodb";
import { Registry } from "prom-client";
import { consoleLogger, type Logger } from "../../shared/util/logger.js";
import { isSqsClient } from "../../shared/util/sqs-client.js";
import { SLOW_READ_PERIODS } from "../write/deadline.js";
import { isMongoClient } from "./mongo-shape.js";
import type { Config } from "./resolve.js";

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

/**
 * Builds the clients `config` does not give. Clients passed in are recognised by shape and used
 * as given, whichever copy of the driver or SDK built them; only clients built here are closed
 * here.
 */
export function createClients(config: Config): SidecarClients {
  const given = config.mongo;
  const givenSqs = config.sqs;
  return {
    mongo: isMongoClient(given)
      ? given
      : new MongoClient(String(given), {
          serverSelectionTimeoutMS: SERVER_SELECTION_TIMEOUT_MS,
          connectTimeoutMS: config.mongoTimeoutMs,
          // Closes a socket silent for longer than the most patient read (deadline.ts), so that
          // the connections of operations abandoned on a hung server do not pile up in the pool.
          socketTimeoutMS: (SLOW_READ_PERIODS + 1) * config.mongoTimeoutMs,
        }),
    ownsMongo: !isMongoClient(given),
    // One retry owner: SqsOps and the pollers retry with their own backoff, so a client built
    // here makes one attempt per call (the SDK's default of 3 under SqsOps' 3 made up to 9) unless
    // the given config says otherwise.
    sqs: isSqsClient(givenSqs) ? givenSqs : new SQSClient({ maxAttempts: 1, ...(givenSqs ?? {}) }),
    ownsSqs: !isSqsClient(givenSqs),
    registry: config.registry ?? new Registry(),
    logger: config.logger ?? consoleLogger,
  };
}

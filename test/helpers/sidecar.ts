// The sidecar as most integration tests run it: on a test queue and database, polling briskly.
import { createSidecar, type Sidecar, type SidecarOptions } from "../../sidecar/index.js";
import { silentLogger } from "./logger.js";
import { mongoUri, type SqsTarget, sqsClient, type TestDb, type TestQueue } from "./services.js";

export function testSidecar(
  target: SqsTarget,
  queue: TestQueue,
  mongo: TestDb,
  options: Partial<SidecarOptions> = {},
): Sidecar {
  return createSidecar({
    queueUrl: queue.queueUrl,
    mongo: mongoUri(),
    database: mongo.name,
    sqs: sqsClient(target),
    waitTimeSeconds: 1,
    logger: silentLogger,
    ...options,
  });
}

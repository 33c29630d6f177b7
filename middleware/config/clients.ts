// The one place the middleware builds what it talks through: the SQS client and the registry.
import { SQSClient, type SQSClientConfig } from "@aws-sdk/client-sqs";
import { type Registry, register } from "prom-client";
import type { Logger } from "../../shared/util/logger.js";
import { isSqsClient } from "../../shared/util/sqs-client.js";
import type { Config } from "./resolve.js";
import { leaseSqsClient, type SqsLease } from "./shared-sqs-clients.js";

export interface MiddlewareClients {
  readonly sqs: SQSClient;
  readonly registry: Registry;
  /** Gives the SQS client back once the instance has closed (see shared-sqs-clients.ts). */
  release(): void;
}

/** A TCP connect to SQS that takes longer than this fails (and is retried). */
const CONNECTION_TIMEOUT_MS = 5000;

/**
 * The SQS client of `sqs` (the `sqs` option): a client passed in is used as is. auditq retries
 * whole calls and single entries itself, with backoff and the spool behind it; the SDK's own
 * retries (3 attempts by default) would multiply that, so a client auditq builds makes one
 * attempt per call unless the config says otherwise. It also gets a deadline per request
 * (`sendTimeoutMs`): the SDK's default has none, so a connection that accepts and never answers
 * would hold a call (and, while SQS fails, all sending) forever. A client passed in is recognised
 * by shape, so one from another copy of the SDK is used as given too (rebuilding it would lose
 * its region, endpoint and middleware). A client auditq builds is shared with the process's
 * other instances of the same settings, and destroyed 10 s after the last of them closed.
 */
function sqsClientOf(
  sqs: SQSClient | SQSClientConfig | undefined,
  sendTimeoutMs: number,
  logger?: Logger,
): SqsLease {
  if (isSqsClient(sqs)) {
    if (!(sqs instanceof SQSClient)) {
      logger?.warn(
        {},
        "auditq: the SQS client comes from another copy of @aws-sdk/client-sqs than the one auditq loads; " +
          "commands from one copy may not run on a client of another: keep one copy (it is a peer dependency)",
      );
    }
    // The app's client: the app destroys it, never auditq.
    return { client: sqs, release: () => undefined };
  }
  return leaseSqsClient(
    sqs,
    sendTimeoutMs,
    () =>
      new SQSClient({
        maxAttempts: 1,
        requestHandler: {
          requestTimeout: sendTimeoutMs,
          connectionTimeout: Math.min(CONNECTION_TIMEOUT_MS, sendTimeoutMs),
          // Without it the SDK only logs a warning when requestTimeout passes.
          throwOnRequestTimeout: true,
        },
        ...(sqs ?? {}),
      }),
  );
}

/** Builds (or takes, when given) the clients of a resolved Config. */
export function createClients(config: Config): MiddlewareClients {
  const lease = sqsClientOf(config.sqs, config.sendTimeoutMs, config.logger);
  return {
    sqs: lease.client,
    release: lease.release,
    // The global registry, so an existing `/metrics` route (express-prom-bundle, prom-client's
    // own `register.metrics()`) shows auditq's metrics with no wiring.
    registry: config.registry ?? register,
  };
}

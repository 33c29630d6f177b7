// The one place the middleware builds what it talks through: the SQS client and the registry.
import { SQSClient, type SQSClientConfig } from "@aws-sdk/client-sqs";
import { Registry } from "prom-client";
import type { Config } from "./options.js";

export interface MiddlewareClients {
  readonly sqs: SQSClient;
  readonly registry: Registry;
}

/** A TCP connect to SQS that takes longer than this fails (and is retried). */
const CONNECTION_TIMEOUT_MS = 5000;

/**
 * The SQS client of `sqs` (the `sqs` option): a client passed in is used as is. auditq retries
 * whole calls and single entries itself, with backoff and the spool behind it; the SDK's own
 * retries (3 attempts by default) would multiply that, so a client auditq builds makes one
 * attempt per call unless the config says otherwise. It also gets a deadline per request
 * (`sendTimeoutMs`): the SDK's default has none, so a connection that accepts and never answers
 * would hold a call (and, while SQS fails, all sending) forever.
 */
export function sqsClientOf(
  sqs: SQSClient | SQSClientConfig | undefined,
  sendTimeoutMs: number,
): SQSClient {
  if (sqs instanceof SQSClient) return sqs;
  return new SQSClient({
    maxAttempts: 1,
    requestHandler: {
      requestTimeout: sendTimeoutMs,
      connectionTimeout: Math.min(CONNECTION_TIMEOUT_MS, sendTimeoutMs),
      // Without it the SDK only logs a warning when requestTimeout passes.
      throwOnRequestTimeout: true,
    },
    ...(sqs ?? {}),
  });
}

/** Builds (or takes, when given) the clients of a resolved Config. */
export function createClients(config: Config): MiddlewareClients {
  return {
    sqs: sqsClientOf(config.sqs, config.sendTimeoutMs),
    registry: config.registry ?? new Registry(),
  };
}

// Error types both sides throw or report, and the one classifier of retryable AWS/network errors.
import { redactCredentials } from "./url-credentials.js";

export type AuditqErrorCode =
  | "ERR_AUDITQ_CONFIG"
  | "ERR_AUDITQ_QUERY"
  | "ERR_AUDITQ_DECODE"
  | "ERR_AUDITQ_TOO_LARGE"
  | "ERR_AUDITQ_SQS"
  | "ERR_AUDITQ_MONGO"
  | "ERR_AUDITQ_CAPTURE"
  | "ERR_AUDITQ_DROPPED"
  | "ERR_AUDITQ_CLOSED"
  | "ERR_AUDITQ_SPOOL";

export interface AuditqErrorOptions {
  cause?: unknown;
  /** Whether repeating the same operation later may succeed. */
  retryable?: boolean;
  /** Extra facts for logs: queue URL, message ids, counts. */
  details?: Record<string, unknown>;
}

/** Every error auditq creates is an AuditqError with a stable `code`. */
export class AuditqError extends Error {
  override name = "AuditqError";
  readonly code: AuditqErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown>;

  constructor(code: AuditqErrorCode, message: string, options: AuditqErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details ?? {};
  }
}

/**
 * A bad option, environment variable or flag, found at construction or start. Its message never
 * carries a credential: a URI's user info and secret parameters show as `[REDACTED]`.
 */
export class ConfigError extends AuditqError {
  override name = "ConfigError";
  /** The option at fault (`maxWriteRate`, `spool.dir`), when one is; for callers to act on. */
  readonly option: string | undefined;
  constructor(message: string, options: AuditqErrorOptions & { option?: string } = {}) {
    super("ERR_AUDITQ_CONFIG", redactCredentials(message), options);
    this.option = options.option;
  }
}

/** A message body that is not an auditq envelope nor a single JSON record. */
export class DecodeError extends AuditqError {
  override name = "DecodeError";
  constructor(message: string, options: AuditqErrorOptions = {}) {
    super("ERR_AUDITQ_DECODE", message, options);
  }
}

const RETRYABLE_AWS_CODES = new Set([
  "ThrottlingException",
  "Throttling",
  "RequestThrottled",
  "RequestThrottledException",
  "TooManyRequestsException",
  "ProvisionedThroughputExceededException",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "InternalError",
  "InternalFailure",
  "RequestTimeout",
  "RequestTimeoutException",
  "KmsThrottled",
]);

const RETRYABLE_NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "TimeoutError",
]);

/**
 * Whether an error thrown by the AWS SDK (or the network under it) is worth retrying:
 * throttling, 5xx and connection failures are; bad requests, missing queues and access
 * denials are not. The one place that decides, so both sides back off alike.
 */
export function isRetryableAwsError(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const e = err as {
    name?: unknown;
    code?: unknown;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: unknown };
    cause?: unknown;
  };
  if (e.$retryable) return true;
  if (typeof e.name === "string" && RETRYABLE_AWS_CODES.has(e.name)) return true;
  if (typeof e.code === "string" && RETRYABLE_NETWORK_CODES.has(e.code)) return true;
  if (typeof e.name === "string" && RETRYABLE_NETWORK_CODES.has(e.name)) return true;
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === "number") return status >= 500 || status === 429;
  // The SDK may wrap a socket error; the cause then carries the network code.
  return e.cause !== undefined && e.cause !== err && isRetryableAwsError(e.cause);
}

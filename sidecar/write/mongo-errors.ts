// Decides whether a failed write means "MongoDB is failing" or may be one record's fault.
import {
  MongoBulkWriteError,
  MongoClientClosedError,
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
  MongoServerClosedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
  MongoWriteConcernError,
} from "mongodb";
import { isBulkWriteError, writeErrorsOf } from "../config/mongo-shape.js";

/**
 * Server error codes that describe the server or the deployment, never the document: a primary
 * stepping down, shutting down, timing out, refusing our user, or out of disk.
 */
const SERVER_FAILURE_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  13, // Unauthorized
  24, // LockTimeout
  50, // MaxTimeMSExpired
  89, // NetworkTimeout
  91, // ShutdownInProgress
  112, // WriteConflict
  189, // PrimarySteppedDown
  202, // NetworkInterfaceExceededTimeLimit
  262, // ExceededTimeLimit
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
  14031, // OutOfDiskSpace
  18, // AuthenticationFailed
]);

/** True when a (per-document) error `code` describes the server or the deployment, never the document. */
export function isServerFailureCode(code: unknown): boolean {
  return typeof code === "number" && SERVER_FAILURE_CODES.has(code);
}

/**
 * True when a partly failed bulk refused some documents for the deployment's sake: through
 * mongos, a shard that is down or stepping down fails only its own documents, each with a server
 * code, while the other shards' inserts succeed.
 */
function shardFailed(err: unknown): boolean {
  if (!isBulkWriteError(err)) return false;
  return writeErrorsOf(err).some((w) => isServerFailureCode(w.code));
}

/** Errors of opening a connection: no record can cause them, so no ping is needed to tell. */
const CONNECT_FAILURES = new Set([
  "ECONNREFUSED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
]);

function connectFailure(err: MongoNetworkError): boolean {
  const cause = err.cause as { code?: unknown } | undefined;
  return typeof cause?.code === "string" && CONNECT_FAILURES.has(cause.code);
}

/**
 * True when `err` says MongoDB cannot take writes now (unreachable, timing out, failing over,
 * refusing our credentials, or a write concern it could not meet): the whole bulk is released
 * and nothing is blamed on a record. False means the error may come from a record; the caller
 * then checks that MongoDB still answers before it looks for the record (a dropped connection
 * is both: FerretDB closes it on a value it cannot store, such as NaN).
 */
export function isMongoOutage(err: unknown): boolean {
  if (
    err instanceof MongoServerSelectionError ||
    err instanceof MongoNotConnectedError ||
    err instanceof MongoTopologyClosedError ||
    err instanceof MongoClientClosedError ||
    err instanceof MongoServerClosedError ||
    err instanceof MongoNetworkTimeoutError ||
    err instanceof MongoOperationTimeoutError ||
    err instanceof MongoWriteConcernError
  ) {
    return true;
  }
  if (err instanceof MongoNetworkError && connectFailure(err)) return true;
  if (err instanceof MongoBulkWriteError && err.result.getWriteConcernError() !== undefined) {
    return true;
  }
  if (shardFailed(err)) return true;
  if (err instanceof MongoServerError) {
    if (
      err.hasErrorLabel("RetryableWriteError") ||
      err.hasErrorLabel("TransientTransactionError")
    ) {
      return true;
    }
    return isServerFailureCode(err.code);
  }
  return false;
}

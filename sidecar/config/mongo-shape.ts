// Recognises the MongoDB driver's client and errors by shape, not by `instanceof`.
// A MongoClient from another copy of the driver (mongoose pins its own) is used as given, and the
// errors it throws are understood.
import type { MongoBulkWriteError, MongoClient, MongoServerError, WriteError } from "mongodb";

/** MongoDB's error code for a duplicate key (E11000). */
export const DUPLICATE_KEY = 11000;

/** Whether `value` is a MongoClient (anything with the driver client's `db`, `connect`, `close`). */
export function isMongoClient(value: unknown): value is MongoClient {
  if (typeof value !== "object" || value === null) return false;
  const client = value as { db?: unknown; connect?: unknown; close?: unknown };
  return (
    typeof client.db === "function" &&
    typeof client.connect === "function" &&
    typeof client.close === "function"
  );
}

function named(err: unknown, names: readonly string[]): boolean {
  return err instanceof Error && names.includes(err.name);
}

/** A partly failed insertMany, from any copy of the driver. */
export function isBulkWriteError(err: unknown): err is MongoBulkWriteError {
  return (
    named(err, ["MongoBulkWriteError"]) &&
    typeof (err as { result?: { getWriteConcernError?: unknown } }).result?.getWriteConcernError ===
      "function"
  );
}

/**
 * A partly failed bulk's per-document errors as an array: the driver's type allows one error
 * alone, and a network error mid-bulk (also a MongoBulkWriteError) has none.
 */
export function writeErrorsOf(err: MongoBulkWriteError): WriteError[] {
  const writeErrors = err.writeErrors as WriteError | WriteError[] | undefined | null;
  if (Array.isArray(writeErrors)) return writeErrors;
  return writeErrors ? [writeErrors] : [];
}

/** An error the server returned (not a network or client-side one), from any copy of the driver. */
export function isServerError(err: unknown): err is MongoServerError {
  return named(err, ["MongoServerError", "MongoWriteConcernError", "MongoBulkWriteError"]);
}

// Ensures the secondary indexes at start, and says when a TTL index deletes records by itself.
import type { Collection } from "mongodb";
import type { Logger } from "../../shared/util/logger.js";
import { isServerError } from "../config/mongo-shape.js";
import type { IndexKeys } from "../config/options.js";
import type { DigestDoc } from "../verify/digest.js";

/** MongoDB's code for a collection that does not exist. */
const NAMESPACE_NOT_FOUND = 26;

/**
 * Creates `indexes`. A server that refuses one gets a warning, and the sidecar carries on; a
 * network error is thrown so that the caller retries. A TTL index found on the collection (made
 * by hand, or by a version before the paced sweep) is reported: it deletes without pacing and
 * without regard for legal holds, with a warning when `retentionDays` > 0 (both delete).
 */
export async function ensureIndexes(
  collection: Collection | Collection<DigestDoc>,
  indexes: readonly IndexKeys[],
  retentionDays: number,
  logger: Logger,
): Promise<void> {
  for (const keys of indexes) {
    try {
      await collection.createIndex(keys);
    } catch (err) {
      if (!isServerError(err)) throw err;
      logger.warn(
        { err, keys, collection: collection.collectionName },
        "MongoDB refused an index; carrying on without it",
      );
    }
  }
  let existing: { name?: string; expireAfterSeconds?: number }[];
  try {
    existing = await collection.indexes();
  } catch (err) {
    // The collection does not exist yet (no index asked for, nothing written): no TTL index.
    if (!isServerError(err) || err.code !== NAMESPACE_NOT_FOUND) throw err;
    existing = [];
  }
  const ttl = existing.filter((i) => i.expireAfterSeconds !== undefined);
  for (const index of ttl) {
    const fields = { index: index.name, expireAfterSeconds: index.expireAfterSeconds };
    if (retentionDays > 0) {
      logger.warn(
        { ...fields, collection: collection.collectionName },
        "a TTL index deletes records too, without pacing and ignoring legal holds; drop it to leave retention to the sweep",
      );
    } else {
      logger.info(
        { ...fields, collection: collection.collectionName },
        "a TTL index deletes this collection's records (unpaced, ignoring legal holds)",
      );
    }
  }
}

/**
 * The indexes `auditq verify` reads by: records by `seq.stream`, `seq.n`; digests by writer
 * chain, by stream and `nMin`, and by `idMin` for records without `seq`.
 */
export async function ensureDigestIndexes(
  records: Collection,
  digests: Collection<DigestDoc>,
  logger: Logger,
): Promise<void> {
  await ensureIndexes(records, [{ "seq.stream": 1, "seq.n": 1 }], 0, logger);
  await ensureIndexes(
    digests,
    [
      { writer: 1, k: 1 },
      { stream: 1, nMin: 1 },
      { stream: 1, idMin: 1 },
    ],
    0,
    logger,
  );
}

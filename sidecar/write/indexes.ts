// Ensures the secondary indexes and the optional retention (TTL) index at start.
import type { Collection } from "mongodb";
import type { Logger } from "../../shared/util/logger.js";
import { isServerError } from "../config/mongo-shape.js";
import type { IndexKeys } from "../config/options.js";
import type { DigestDoc } from "../verify/digest.js";

/**
 * Creates `indexes` and, when `retentionDays > 0`, a TTL index on `ts`. A server that refuses
 * an index (FerretDB refuses TTL indexes) gets a warning, and the sidecar carries on; a network
 * error is thrown so that the caller retries.
 */
export async function ensureIndexes(
  collection: Collection | Collection<DigestDoc>,
  indexes: readonly IndexKeys[],
  retentionDays: number,
  logger: Logger,
): Promise<void> {
  const wanted: { keys: IndexKeys; options: { expireAfterSeconds?: number } }[] = indexes.map(
    (keys) => ({ keys, options: {} }),
  );
  if (retentionDays > 0) {
    wanted.push({
      keys: { ts: 1 },
      options: { expireAfterSeconds: Math.round(retentionDays * 86_400) },
    });
  }
  for (const { keys, options } of wanted) {
    try {
      await collection.createIndex(keys, options);
    } catch (err) {
      if (!isServerError(err)) throw err;
      logger.warn(
        { err, keys, ...options, collection: collection.collectionName },
        options.expireAfterSeconds === undefined
          ? "MongoDB refused an index; carrying on without it"
          : "MongoDB refused the retention (TTL) index; records will NOT expire — delete old ones by hand",
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

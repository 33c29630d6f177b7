// `auditq verify`'s check, apart from where the documents come from: three streaming passes
// (the digest chains, records with `seq` by stream, records without by `_id`) over sorted
// sources, each a merge-join with bounded memory (docs/proof.md#what-verify-reports).
import type { KeyObject } from "node:crypto";
import type { Document, ObjectId } from "bson";
import { checkChain } from "./check-chain.js";
import { checkLoose } from "./check-loose.js";
import { checkStreams } from "./check-streams.js";
import { byId, byStreamN, type DigestEntry, digestRun } from "./entries.js";
import { type EntryRun, mergeRuns } from "./merge.js";
import { Findings, type VerifyReport } from "./report.js";

/** Where the verifier reads from; every source sorted as its comment says, read with EXACT_READ. */
export interface VerifySources {
  /** Digests by `writer`, `k`. */
  chainDigests(): AsyncIterable<Document>;
  /** Digests of streams (`stream` not null) by `stream`, `nMin`. */
  streamDigests(): AsyncIterable<Document>;
  /** Digests without a stream by `idMin`. */
  looseDigests(): AsyncIterable<Document>;
  /** Records with a valid `seq` by `seq.stream`, `seq.n`. */
  streamRecords(): AsyncIterable<Document>;
  /** Records without a valid `seq` by `_id`. */
  looseRecords(): AsyncIterable<Document>;
  /** `<collection>_streams` documents by `_id`. */
  streams(): AsyncIterable<Document>;
  /** The largest `cutoff` of `<collection>_retention`, if any. */
  cutoff(): Promise<ObjectId | undefined>;
}

export interface VerifyOptions {
  /** Ed25519 public key: digests must be signed by its private key. */
  publicKey?: KeyObject | undefined;
  /** Report records without `seq` that no digest names. */
  strict?: boolean;
  /** Only records from this time on: numbers below a stream's first one in range are not gaps. */
  openStart?: boolean;
  /** Only records up to this time: numbers above a stream's last one in range are not gaps. */
  openEnd?: boolean;
  onProgress?: (records: number) => void;
  /** Digest entries naming a record outside the time range are left out. */
  inRange?: (id: ObjectId) => boolean;
  /** Most findings listed per kind (more are counted). */
  maxListed?: number;
}

async function* runs(
  digests: AsyncIterable<Document>,
  options: VerifyOptions,
): AsyncGenerator<EntryRun<DigestEntry>> {
  const { inRange, publicKey } = options;
  for await (const doc of digests) {
    const run = digestRun(doc, publicKey);
    yield inRange ? { entries: run.entries.filter((e) => inRange(e.id)) } : run;
  }
}

/** Verifies the stored audit trail `sources` read; resolves to the report. */
export async function verifyTrail(
  sources: VerifySources,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const findings = new Findings(options.maxListed);
  const { publicKey } = options;
  const cutoff = await sources.cutoff();
  await checkChain(
    { digests: sources.chainDigests(), publicKey, openStart: options.openStart ?? false },
    findings,
  );
  await checkStreams(
    {
      records: sources.streamRecords(),
      entries: mergeRuns(runs(sources.streamDigests(), options), byStreamN),
      streams: sources.streams(),
      cutoff,
      openStart: options.openStart ?? false,
      openEnd: options.openEnd ?? false,
      onProgress: options.onProgress,
    },
    findings,
  );
  await checkLoose(
    {
      records: sources.looseRecords(),
      entries: mergeRuns(runs(sources.looseDigests(), options), byId),
      cutoff,
      strict: options.strict ?? false,
      onProgress: options.onProgress,
    },
    findings,
  );
  return findings.report;
}

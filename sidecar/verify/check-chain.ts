// The verifier's pass over the digests in chain order (writer, k): each writer's digests must
// follow on (k, k + 1, …) and each must name the hash of the one before, so that a digest
// deleted from the middle of a chain is found; with a public key, each must be signed by it.
import type { KeyObject } from "node:crypto";
import type { Binary, Document } from "bson";
import { digestHash, digestSignatureValid } from "./digest.js";
import { malformed } from "./entries.js";
import type { Findings } from "./report.js";

export interface ChainPassInput {
  /** Digests sorted by `writer`, `k`, read with EXACT_READ. */
  digests: AsyncIterable<Document>;
  publicKey: KeyObject | undefined;
  /** A `--since` was given: a writer's first digest in range may follow one before it. */
  openStart: boolean;
}

/** Runs the pass, adding to `findings`. */
export async function checkChain(input: ChainPassInput, findings: Findings): Promise<void> {
  let writer: string | undefined;
  let k = 0;
  let prevHash: Buffer | null = null;
  for await (const doc of input.digests) {
    findings.report.digests++;
    const id = String(doc._id);
    const docWriter = String(doc.writer);
    const docK = Number(doc.k);
    const problem = (text: string) =>
      findings.add("digestProblems", { digest: id, writer: docWriter, k: docK, problem: text });
    const shape = malformed(doc);
    if (shape !== undefined) problem(`malformed: ${shape}`);
    const hash = digestHash(doc);
    if (input.publicKey && !digestSignatureValid(hash, doc.sig, input.publicKey)) {
      problem(doc.sig === undefined ? "not signed" : "signature does not match the public key");
    }
    const first = docWriter !== writer;
    if (first) {
      if (docK !== 1 && !input.openStart) {
        problem(`the writer's digests 1..${docK - 1} are missing (deleted?)`);
      }
    } else if (docK !== k + 1) {
      problem(`the writer's digests ${k + 1}..${docK - 1} are missing (deleted?)`);
    } else {
      const prev = doc.prev as Binary | null;
      if (prev === null || prevHash === null || Buffer.compare(prev.buffer, prevHash) !== 0) {
        problem("does not name the hash of the writer's digest before it (rewritten?)");
      }
    }
    writer = docWriter;
    k = docK;
    prevHash = hash;
  }
}

// Digests in the layout the sidecar wrote before the packed one (`v` 2): lists with one element
// per entry. `auditq verify` must keep reading those already stored.
import { Binary, type Document, ObjectId } from "bson";
import type { UnchainedDigest } from "../../sidecar/verify/digest.js";
import { fromRanges } from "../../sidecar/verify/n-ranges.js";

/** `digest` in the list layout: `ids` an ObjectId, `hashes` a Binary, `n` a number per entry. */
export function listLayout(digest: UnchainedDigest): Document {
  const { v: _v, ids, hashes, n, ...rest } = digest;
  const count = ids.position / 12;
  const out: Document = {
    ...rest,
    ids: Array.from(
      { length: count },
      (_, i) => new ObjectId(ids.buffer.subarray(12 * i, 12 * i + 12)),
    ),
    hashes: Array.from(
      { length: count },
      (_, i) => new Binary(Buffer.from(hashes.buffer.subarray(32 * i, 32 * i + 32))),
    ),
  };
  if (n !== undefined) out.n = fromRanges(n, count) as number[];
  return out;
}

// Writes the digests of stored messages into `<collection>_digests`, chained per sidecar
// instance, before their messages are deleted (docs/proof.md#digests). One batch in flight at a
// time: a chain needs an order, and one sidecar's order costs no coordination with the others.

import type { KeyObject } from "node:crypto";
import { randomBytes } from "node:crypto";
import type { ObjectId } from "bson";
import type { Collection, WriteConcernSettings } from "mongodb";
import type { Logger } from "../../shared/util/logger.js";
import type { AuditSeq } from "../../shared/wire/record.js";
import { ATTR_SIGNATURE } from "../../shared/wire/signature.js";
import { DUPLICATE_KEY, isBulkWriteError, writeErrorsOf } from "../config/mongo-shape.js";
import type { HeldMessage } from "../receive/held-message.js";
import type { PendingDoc } from "../receive/record-buffer.js";
import { documentHash, EXACT_READ } from "../verify/canonical.js";
import {
  type ChainHead,
  chainDigests,
  type DigestDoc,
  digestHash,
  messageDigests,
  type StoredEntry,
  type UnchainedDigest,
} from "../verify/digest.js";
import type { Deadline } from "./deadline.js";

/** Most digests per `insertMany`. */
const MAX_BATCH = 200;

export interface DigestWriterDeps {
  digests: Collection<DigestDoc>;
  /** Ed25519 private key of `digestSigningKey`; digests are unsigned without one. */
  key: KeyObject | undefined;
  writeConcern: WriteConcernSettings;
  deadline: Deadline;
  /** Spends from the write budget: one token per digest. */
  spend(n: number): Promise<boolean>;
  /** The message's digests are stored (`ok`), or could not be (release it). */
  done(owner: HeldMessage, ok: boolean): void;
  logger: Logger;
}

export class DigestWriter {
  /** This sidecar instance's chain: random per start, never shared. */
  readonly writer = randomBytes(12).toString("base64url");
  private queue: HeldMessage[] = [];
  private running: Promise<void> | undefined;
  /** Undefined after a write of unknown outcome: read from MongoDB before the next batch. */
  private head: ChainHead | undefined = { k: 0, hash: null };

  constructor(private readonly d: DigestWriterDeps) {}

  /** Writes the digests of `owner`'s stored records, then calls `done`. */
  submit(owner: HeldMessage): void {
    this.queue.push(owner);
    this.running ??= this.loop().finally(() => {
      this.running = undefined;
    });
  }

  /** Resolves once every digest submitted so far is written or given up. */
  async drain(): Promise<void> {
    while (this.running) await this.running;
  }

  private async loop(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      const ok = await this.writeBatch(batch);
      for (const owner of batch) this.d.done(owner, ok);
    }
  }

  /** Writes the batch's digests in chain order; false when the outcome is not known to be stored. */
  private async writeBatch(batch: readonly HeldMessage[]): Promise<boolean> {
    const unchained = batch.flatMap((owner) =>
      messageDigests(
        owner.stored ?? [],
        owner.message.MessageAttributes?.[ATTR_SIGNATURE]?.StringValue,
      ),
    );
    if (unchained.length === 0) return true;
    try {
      await this.d.spend(unchained.length);
      this.head ??= await this.d.deadline("digest chain head", this.readHead());
      let pending = unchained;
      while (pending.length > 0) pending = await this.insertChained(pending, this.head);
      return true;
    } catch (err) {
      this.head = undefined;
      this.d.logger.warn(
        { err, messages: batch.length },
        "cannot store digests; their messages will be redelivered",
      );
      return false;
    }
  }

  /**
   * Inserts `digests` linked after `head` (advancing it) in one ordered bulk. A digest whose
   * `_id` is taken (a redelivered message: its records were digested already) is dropped and the
   * rest linked again; returns what is left to insert. Throws when the outcome is unknown.
   */
  private async insertChained(
    digests: readonly UnchainedDigest[],
    head: ChainHead,
  ): Promise<UnchainedDigest[]> {
    const docs = chainDigests(digests, head, this.writer, this.d.key);
    try {
      await this.d.deadline(
        "digest insert",
        this.d.digests.insertMany(docs, { ordered: true, writeConcern: this.d.writeConcern }),
      );
      this.advance(head, docs, docs.length);
      return [];
    } catch (err) {
      if (!isBulkWriteError(err) || err.result.getWriteConcernError() !== undefined) throw err;
      const first = writeErrorsOf(err)[0];
      if (first?.code !== DUPLICATE_KEY || first.index !== err.insertedCount) throw err;
      this.advance(head, docs, first.index);
      return digests.slice(first.index + 1);
    }
  }

  private advance(head: ChainHead, docs: readonly DigestDoc[], stored: number): void {
    const last = docs[stored - 1];
    if (last === undefined) return;
    head.k = last.k;
    head.hash = digestHash(last);
  }

  /** The chain's head as MongoDB has it (after a write of unknown outcome). */
  private async readHead(): Promise<ChainHead> {
    const [last] = await this.d.digests
      .find({ writer: this.writer }, EXACT_READ)
      .sort({ k: -1 })
      .limit(1)
      .toArray();
    return last ? { k: Number(last.k), hash: digestHash(last) } : { k: 0, hash: null };
  }
}

/** Notes what was stored of `p`'s record (written, or already there) for its message's digest. */
export function noteStored(p: PendingDoc): void {
  const { doc } = p;
  const seq = doc.seq as Partial<Record<keyof AuditSeq, unknown>> | undefined;
  const inStream = typeof seq?.stream === "string" && typeof seq.n === "number";
  const entry: StoredEntry = {
    id: doc._id as ObjectId,
    stream: inStream ? (seq.stream as string) : null,
    n: inStream ? (seq.n as number) : 0,
    hash: documentHash(doc),
  };
  if (p.owner.stored) p.owner.stored.push(entry);
  else p.owner.stored = [entry];
}

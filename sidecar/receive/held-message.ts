// A received message the sidecar holds (hidden from other consumers) until its fate is settled.
import type { Message } from "@aws-sdk/client-sqs";
import type { StreamMark } from "../../shared/wire/stream.js";
import type { StoredEntry } from "../verify/digest.js";

/** A message received and not yet deleted or released. */
export interface HeldMessage {
  message: Message;
  messageId: string;
  receiveCount: number;
  /** Its records not yet settled (written, duplicate or quarantined). */
  pending: number;
  /** A write of one of its records had an unknown outcome: it must not be deleted. */
  failed: boolean;
  /** When its visibility timeout was last (re)set. */
  extendedAt: number;
  /** Decoded bytes of its body, counted in the held budget until the message is settled. */
  decodedBytes: number;
  /** What was stored of its records (written or already there), when digests are on. */
  stored?: StoredEntry[];
  /** Its producer's stream mark, written to `<collection>_streams` once its records are stored. */
  stream?: StreamMark | undefined;
}

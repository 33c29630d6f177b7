// A producer stream, as the envelope's optional `stream` key carries it (docs/design/schema-and-bins.md):
// its id, its high-water mark, its clean end, and the losses its producer states.

/** Why a producer gave up records it had numbered. */
export type LossReason = "buffer-full" | "too-large" | "spool-lost" | "close-timeout";

/** Records `from`..`to` (inclusive) of a stream that its producer gave up, and why. */
export interface LossRange {
  from: number;
  to: number;
  reason: LossReason;
}

/** The envelope's `stream` key: `{"id":"<22 chars>","hwm":1042}` plus `end` or `lost` when they apply. */
export interface StreamMark {
  /** 22 characters: base64url of 16 random bytes, made when the stream starts. */
  id: string;
  /** The largest `n` the stream has given so far (not the last record of this message). */
  hwm: number;
  /** Sent once by a clean `close()`: the stream has no `n` above `hwm`. */
  end?: true;
  /** A loss statement. */
  lost?: LossRange[];
}

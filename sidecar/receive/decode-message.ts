// Turns one received message into held records, within the decode limits and the held limits.
import type { Message } from "@aws-sdk/client-sqs";
import type { Document } from "bson";
import { decodeMeasured, type MeasuredBody, measureMessage } from "../../shared/wire/decoder.js";
import type { DecodeLimits } from "../../shared/wire/json-bounds.js";
import { signatureProblem } from "../../shared/wire/signature.js";
import type { StreamMark } from "../../shared/wire/stream.js";
import { fitsBesideHeld, type HeldAmount } from "./held-budget.js";
import { withDeterministicIds } from "./record-id.js";

export interface DecodeMessageDeps {
  /** Secrets a message must be signed with (any one of them); empty: not checked. */
  signingSecrets: readonly string[];
  limits: DecodeLimits;
  /** Records one message may hold at most, whatever else is held (`maxBufferedRecords`). */
  maxMessageRecords: number;
  /** Records and decoded bytes held at most. */
  maxHeld: HeldAmount;
  /** Records and decoded bytes held now. */
  held(): HeldAmount;
  /** Resolves when what is held may have shrunk, or `signal` aborted. */
  waitForRoom(signal: AbortSignal): Promise<void>;
  /** Holds the decoded records. Called synchronously after the room check. */
  hold(docs: Document[], decodedBytes: number, stream: StreamMark | undefined): void;
  signal: AbortSignal;
}

export type DecodeOutcome =
  /** Its records are held (none when the envelope was empty), and its stream mark if any. */
  | { kind: "held"; records: number; stream: StreamMark | undefined }
  /** Never writable as records: quarantine the message with `reason`. */
  | { kind: "rejected"; reason: string }
  /** Stopping: the message was not decoded. */
  | { kind: "aborted" };

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Checks the signature when signing is on, measures the message (bytes, records, values) before
 * parsing it, waits for room among the held records, then parses it and hands its records to
 * `hold` in the same turn of the event loop as the room check, so that two pollers cannot both
 * fill the last room.
 */
export async function decodeMessage(
  message: Message,
  d: DecodeMessageDeps,
): Promise<DecodeOutcome> {
  if (d.signingSecrets.length > 0) {
    // Before anything else: an unsigned sender costs one HMAC, never a decompression.
    const problem = signatureProblem(
      message.Body ?? "",
      message.MessageAttributes ?? {},
      d.signingSecrets,
    );
    if (problem !== undefined) return { kind: "rejected", reason: problem };
  }
  let measured: MeasuredBody;
  try {
    measured = await measureMessage(message, d.limits);
  } catch (err) {
    return { kind: "rejected", reason: reasonOf(err) };
  }
  const ask = { records: measured.shape.records, bytes: measured.bytes.length };
  if (ask.records > d.maxMessageRecords) {
    return {
      kind: "rejected",
      reason: `message holds ${ask.records} records, more than maxBufferedRecords (${d.maxMessageRecords})`,
    };
  }
  while (!fitsBesideHeld(d.held(), ask, d.maxHeld)) {
    if (d.signal.aborted) return { kind: "aborted" };
    await d.waitForRoom(d.signal);
  }
  if (d.signal.aborted) return { kind: "aborted" };
  let docs: Document[];
  let stream: StreamMark | undefined;
  try {
    const decoded = decodeMeasured(measured);
    docs = withDeterministicIds(decoded.records, message.MessageId);
    stream = decoded.stream;
  } catch (err) {
    return { kind: "rejected", reason: reasonOf(err) };
  }
  if (docs.length > 0) d.hold(docs, ask.bytes, stream);
  return { kind: "held", records: docs.length, stream };
}

// A record's `seq` written into its own JSON text, as its last key: how records travel that the
// message's mark does not number (docs/proof.md, "Sequence numbers and loss statements").
import type { AuditSeq } from "../../shared/wire/record.js";

/** A record's `seq` as the last key of its text: how earlier producers sent every record. */
const SEQ_TAIL = /"seq":\{"stream":"([A-Za-z0-9_-]{22})","n":(\d+)\}\}$/;

/** The `seq` a record's text ends with, if any. */
export function seqInJson(json: string): AuditSeq | undefined {
  const tail = SEQ_TAIL.exec(json);
  return tail ? { stream: tail[1] as string, n: Number(tail[2]) } : undefined;
}

/**
 * A record's text (an object, as serializeRecord writes it, without `seq`) with `seq` added as
 * its last key: byte for byte what serializing the record with `seq` set last writes.
 */
export function withSeqJson(json: string, seq: AuditSeq): string {
  const text = `"seq":{"stream":"${seq.stream}","n":${seq.n}}}`;
  return json.length > 2 ? `${json.slice(0, -1)},${text}` : `{${text}`;
}

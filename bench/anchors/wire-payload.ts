// Payload bytes of SQS messages as the JSON protocol carries them, counted as SQS counts them.
import { messageBytes } from "../../shared/wire/sqs-limits.js";

/** A message attribute as the JSON protocol writes it: a Binary value is base64 text. */
interface WireAttribute {
  DataType?: string;
  StringValue?: string;
  BinaryValue?: string;
}

export interface Carried {
  MessageBody?: string;
  Body?: string;
  MessageAttributes?: Record<string, WireAttribute>;
}

/**
 * Payload bytes of the messages as SQS counts them: a Binary attribute value by its decoded
 * bytes, not by the base64 the JSON protocol carries it in (see shared/wire/payload-attribute.ts).
 */
export function wirePayloadBytes(messages: Carried[] | undefined): number {
  let bytes = 0;
  for (const m of messages ?? []) {
    const attributes: Parameters<typeof messageBytes>[1] = {};
    for (const [name, a] of Object.entries(m.MessageAttributes ?? {})) {
      attributes[name] = {
        DataType: a.DataType,
        StringValue: a.StringValue,
        BinaryValue: a.BinaryValue === undefined ? undefined : Buffer.from(a.BinaryValue, "base64"),
      };
    }
    bytes += messageBytes(m.MessageBody ?? m.Body ?? "", attributes);
  }
  return bytes;
}

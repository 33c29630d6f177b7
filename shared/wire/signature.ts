// Optional message signing: an HMAC of the body (and binary payload) under a shared secret, so
// that the sidecar can refuse messages from anyone who can send to the queue but does not hold
// the secret.
import { createHmac, timingSafeEqual } from "node:crypto";
import { ATTR_ENCODING, ATTR_FORMAT } from "./envelope.js";
import { ATTR_PAYLOAD } from "./payload-attribute.js";

/** Shortest signing secret accepted on either side: a guessable one would make signing decorative. */
export const MIN_SIGNING_SECRET_CHARS = 16;

/** Message attribute carrying the signature: `v1=<base64 HMAC-SHA256>`. */
export const ATTR_SIGNATURE = "auditq-signature";

const VERSION = "v1=";
/** Length of the attribute value: the version tag and 32 bytes in base64. */
const SIGNATURE_CHARS = VERSION.length + 44;

/**
 * What the signature attribute adds to a message's size as SQS counts it (name, data type,
 * value): the producer keeps its messages this much smaller when it signs.
 */
export const SIGNATURE_ATTRIBUTE_BYTES = ATTR_SIGNATURE.length + "String".length + SIGNATURE_CHARS;

interface AttributesLike {
  [name: string]:
    | {
        DataType?: string | undefined;
        StringValue?: string | undefined;
        BinaryValue?: Uint8Array | undefined;
      }
    | undefined;
}

/**
 * The signed bytes: the format and encoding attributes (so neither can be swapped) and the body
 * exactly as sent, compressed and base64 when it is; when the records travel in the binary
 * payload attribute, its data type and bytes too, after a header that gives each part's length
 * (so no byte can move from one part to another). A message without that attribute is signed
 * exactly as before it existed.
 */
function signedParts(body: string, attributes: AttributesLike): Array<string | Uint8Array> {
  const format = attributes[ATTR_FORMAT]?.StringValue ?? "";
  const encoding = attributes[ATTR_ENCODING]?.StringValue ?? "identity";
  const payload = attributes[ATTR_PAYLOAD];
  if (payload === undefined) return [`auditq-signature-v1\n${format}\n${encoding}\n${body}`];
  const dataType = payload.DataType ?? "";
  const bytes = payload.BinaryValue ?? new Uint8Array(0);
  const bodyBytes = Buffer.byteLength(body, "utf8");
  return [
    `auditq-signature-v1-payload\n${format}\n${encoding}\n${dataType}\n${bodyBytes}\n${bytes.byteLength}\n${body}\n`,
    bytes,
  ];
}

/**
 * The signature attribute's value for a message of `body` and `attributes` (the payload
 * attribute included, when it has one) under `secret`.
 */
export function signMessage(body: string, attributes: AttributesLike, secret: string): string {
  const hmac = createHmac("sha256", secret);
  for (const part of signedParts(body, attributes)) hmac.update(part);
  return VERSION + hmac.digest("base64");
}

/**
 * Why the message's signature is not valid under any of `secrets`, or undefined when it is.
 * Several secrets are tried so that a key can be rotated without a stop: the sidecar accepts the
 * old and the new secret while producers switch. Compares in constant time.
 */
export function signatureProblem(
  body: string,
  attributes: AttributesLike,
  secrets: readonly string[],
): string | undefined {
  const given = attributes[ATTR_SIGNATURE]?.StringValue;
  if (given === undefined) return `message is not signed (no ${ATTR_SIGNATURE} attribute)`;
  const givenBytes = Buffer.from(given, "utf8");
  for (const secret of secrets) {
    const expected = Buffer.from(signMessage(body, attributes, secret), "utf8");
    if (expected.length === givenBytes.length && timingSafeEqual(expected, givenBytes)) {
      return undefined;
    }
  }
  return `message signature does not match any signing secret (${ATTR_SIGNATURE})`;
}

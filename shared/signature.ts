// Optional message signing: an HMAC of the body under a shared secret, so that the sidecar can
// refuse messages from anyone who can send to the queue but does not hold the secret.
import { createHmac, timingSafeEqual } from "node:crypto";
import { ATTR_ENCODING, ATTR_FORMAT } from "./envelope.js";

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
  [name: string]: { StringValue?: string | undefined } | undefined;
}

/**
 * The signed text: the format and encoding attributes (so neither can be swapped) and the body
 * exactly as sent, compressed and base64 when it is.
 */
function signedText(body: string, attributes: AttributesLike): string {
  const format = attributes[ATTR_FORMAT]?.StringValue ?? "";
  const encoding = attributes[ATTR_ENCODING]?.StringValue ?? "identity";
  return `auditq-signature-v1\n${format}\n${encoding}\n${body}`;
}

/** The signature attribute's value for a message of `body` and `attributes` under `secret`. */
export function signMessage(body: string, attributes: AttributesLike, secret: string): string {
  return (
    VERSION + createHmac("sha256", secret).update(signedText(body, attributes)).digest("base64")
  );
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

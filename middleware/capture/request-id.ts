// The request id of a record: the caller's own when it sent one, else a random one.
import { asText, field } from "./read.js";

const REQUEST_ID = /^[\w\-.:@/+=]{1,128}$/;
// W3C trace context: version-traceid-parentid-flags; an all-zero trace id is invalid.
const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}/;

/**
 * `x-request-id` when it is a plausible id (1–128 URL-safe characters), else the trace id of a
 * valid `traceparent`, else `fallback`. A header that fails the check is ignored, so a client
 * cannot put arbitrary text into every record's request id.
 */
export function requestIdOf(headers: unknown, fallback: () => string): string {
  const given = asText(field(headers, "x-request-id"));
  if (given !== undefined && REQUEST_ID.test(given)) return given;
  const traceparent = asText(field(headers, "traceparent"));
  if (traceparent !== undefined) {
    const traceId = TRACEPARENT.exec(traceparent)?.[1];
    if (traceId !== undefined && traceId !== "00000000000000000000000000000000") return traceId;
  }
  return fallback();
}

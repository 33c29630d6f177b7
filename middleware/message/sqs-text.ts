// Message text SQS accepts whatever a record holds: the characters it refuses, escaped in JSON.
//
// SQS accepts #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF in a message
// body. JSON.stringify already escapes control characters and lone surrogates, but writes
// U+FFFE and U+FFFF raw, and one such character made SQS refuse the message (U+FFFE) or the
// whole call (U+FFFF on ElasticMQ). Characters beyond U+FFFF are escaped too (as their
// surrogate pair): SQS takes them, but emulators and proxies in front of it do not all do.
// Every such character sits inside a JSON string, so its `\uXXXX` escape decodes back to
// exactly the same text, and JSON text without them is returned as is (the common case).

const REFUSED = /[\uD800-\uDFFF\uFFFE\uFFFF]/;
const REFUSED_ALL = /[\uD800-\uDFFF\uFFFE\uFFFF]/g;

const escapeUnit = (unit: string): string =>
  `\\u${(unit.charCodeAt(0) as number).toString(16).padStart(4, "0")}`;

/** `json` with the code units SQS may refuse written as `\uXXXX` escapes; same JSON value. */
export function sqsSafeJson(json: string): string {
  return REFUSED.test(json) ? json.replace(REFUSED_ALL, escapeUnit) : json;
}

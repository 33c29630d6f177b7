// Reads fields of `req` and `res` that the app (or another middleware) may have changed in any
// way — null or numeric headers, deleted properties, getters that throw, proxies — without
// ever throwing, so that every request still gets its record.

/**
 * `obj[key]`, or undefined when `obj` is not an object or reading the field throws (a getter or
 * Proxy trap the app installed). A field that cannot be read is recorded as absent: the record
 * of the request matters more than that one field.
 */
export function field(obj: unknown, key: PropertyKey): unknown {
  if ((typeof obj !== "object" && typeof obj !== "function") || obj === null) return undefined;
  try {
    return (obj as Record<PropertyKey, unknown>)[key];
  } catch {
    return undefined;
  }
}

/**
 * A header-like value as text: strings as they are, numbers, booleans and bigints converted
 * (Node keeps what `req.headers.x = 42` set); anything else (null, objects, symbols) undefined.
 */
export function asText(value: unknown): string | undefined {
  switch (typeof value) {
    case "string":
      return value;
    case "number":
    case "boolean":
    case "bigint":
      return String(value);
    default:
      return undefined;
  }
}

/** A header's value as Node gives it (a string, or an array for repeated headers), as text. */
export function headerText(value: unknown): string | string[] | undefined {
  if (!Array.isArray(value)) return asText(value);
  const out: string[] = [];
  for (const item of value) {
    const text = asText(item);
    if (text !== undefined) out.push(text);
  }
  return out.length === 0 ? undefined : out;
}

/** Path of the request as the client sent it, without the query string. */
export function requestPath(req: unknown): string {
  const url = asText(field(req, "originalUrl")) ?? asText(field(req, "url")) ?? "/";
  const q = url.indexOf("?");
  return q === -1 ? url : url.slice(0, q);
}

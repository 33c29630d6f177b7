// The fields of a request that capture reads, read once when its response ends.
//
// Building a record used to read `req.method`, the URL and `req.headers` through `field()` in
// each helper that needed them (about thirty guarded reads a request, at megamorphic sites).
// They are read here once, in one guarded block; only when that block throws (a getter or
// Proxy trap the app installed) is each field read on its own, so one field that cannot be read
// still costs only that field, as before (middleware/capture/read.ts).
import { asText, field, headerText } from "./read.js";

interface RequestLike {
  method?: unknown;
  originalUrl?: unknown;
  url?: unknown;
  headers?: unknown;
}

export class RequestView {
  /** `req.method` as text, undefined when it is not text or cannot be read. */
  readonly method: string | undefined;
  /** The path the client asked for, without the query string; "/" when there is no URL. */
  readonly path: string;
  /** Whether the URL carried a query string. */
  readonly hasQuery: boolean;
  /** `req.headers` as the app left it: anything, read only through {@link header}. */
  readonly headers: unknown;

  constructor(req: unknown) {
    let method: unknown;
    let url: string | undefined;
    let headers: unknown;
    try {
      const r = req as RequestLike;
      method = r.method;
      url = asText(r.originalUrl) ?? asText(r.url);
      headers = r.headers;
    } catch {
      // Something on the request throws when read: each field on its own, the rest kept.
      method = field(req, "method");
      url = asText(field(req, "originalUrl")) ?? asText(field(req, "url"));
      headers = field(req, "headers");
    }
    this.method = asText(method);
    this.headers = headers;
    const q = url === undefined ? -1 : url.indexOf("?");
    this.path = url === undefined ? "/" : q === -1 ? url : url.slice(0, q);
    this.hasQuery = q !== -1;
  }

  /** A header's value as text (an array for repeated headers), whatever `headers` became. */
  header(name: string): string | string[] | undefined {
    return headerText(field(this.headers, name));
  }

  /** The first value of a header, as text. */
  firstHeader(name: string): string | undefined {
    const value = this.header(name);
    return Array.isArray(value) ? value[0] : value;
  }
}

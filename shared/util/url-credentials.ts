// Credentials in URLs: the user info of a URL (`scheme://user:pass@host`), censored where a URL
// is the whole value (the request path, Referer, Origin) or anywhere inside a value (a
// connection string in a body field or an error message), the rest of the URL kept.

// The user info of a URL's authority at the start of the text: `scheme://` or a
// protocol-relative `//`, then everything up to the last `@` before the path, as WHATWG URL
// parsers read it (`\` counts as `/` there).
const USERINFO = /^((?:[a-z][a-z\d+.-]*:)?[/\\]{2})[^/\\?#]*@/i;

// The same inside text: a scheme that starts a word (the lookbehind keeps a long run of
// letters from being tried at every position), `://`, user info up to the last `@` before the
// path or the end of the URL (whitespace, a quote or a bracket).
const URL_USERINFO = /(?<![a-z\d+.-])([a-z][a-z\d+.-]*:\/\/)[^\s/\\?#"'<>()[\]{}]*@/gi;

/**
 * A URL with its user info censored, the rest kept: `http://user:pw@host/p` →
 * `http://[REDACTED]@host/p`, also `//user:pw@host/p`.
 */
export function censorUserinfo(url: string, censor: string): string {
  return url.includes("@") ? url.replace(USERINFO, `$1${censor}@`) : url;
}

/**
 * Text with the user info of every `scheme://user:pass@host` URL in it censored:
 * `postgres://app:pw@db/main`, `mongodb+srv://…`, `redis://:pw@cache`, anywhere in the value.
 */
export function censorUrlCredentials(text: string, censor: string): string {
  if (!text.includes("@") || !text.includes("://")) return text;
  return text.replace(URL_USERINFO, `$1${censor}@`);
}

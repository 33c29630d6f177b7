// Credentials in URLs: the user info of a URL (`scheme://user:pass@host`), censored where a URL
// is the whole value (the request path, Referer, Origin) or anywhere inside a value (a
// connection string in a body field or an error message), the rest of the URL kept; and every
// credential a URI may carry, redacted from messages and log lines.

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

// User info without `scheme://` (`admin:pw@db`, a mistyped `mongodb:/admin:pw@db`): a word
// that starts after a delimiter, a colon, then anything up to an `@`.
const BARE_USERINFO =
  /(?<![^\s/\\?#"'`<>()[\]{},;=])[^\s/\\?#"'`<>()[\]{}:@,;=]+:[^\s/\\?#"'`<>()[\]{}@]*@/g;

// A query parameter (`?password=…`, `&tlsCertificateKeyFilePassword=…`, `;token=…`).
const QUERY_PARAMETER = /([?&;])([\w.-]+)=([^&;#\s"'`<>]*)/g;

// Names of query parameters whose value is a secret.
const SECRET_PARAMETER = /pass|pwd|secret|token|key|credential|authmechanismproperties/i;

/**
 * Text for a message or a log line, with every credential a URI in it may carry shown as
 * `[REDACTED]`: user info (`mongodb://[REDACTED]@db/`, also without a well-formed scheme) and
 * secret-looking query parameters (`password`, `secret`, `token`, `key`, `credentials`,
 * `authMechanismProperties`). The rest stays, to say what was wrong.
 */
export function redactCredentials(text: string): string {
  const censor = "[REDACTED]";
  let out = censorUrlCredentials(text, censor);
  if (out.includes("@")) out = out.replace(BARE_USERINFO, `${censor}@`);
  if (!out.includes("=")) return out;
  return out.replace(QUERY_PARAMETER, (whole, separator: string, name: string) =>
    SECRET_PARAMETER.test(name) ? `${separator}${name}=${censor}` : whole,
  );
}

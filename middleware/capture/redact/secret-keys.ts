// The default rule for which keys hold secrets, in body, query, params, meta and header names.
// Drawn from what pino/fast-redact users list in their redact paths, OWASP's Logging Cheat Sheet
// (passwords, session ids, access tokens, keys, payment card and bank data, national ids), the
// default field lists of Elastic APM agents and Sentry's SDKs, and PCI DSS's sensitive
// authentication data (full track data, card verification codes, PINs and PIN blocks), matched
// so that short words (`pin`, `pass`, `auth`, `key`) do not censor `shipping`, `compass`,
// `author` or `monkey`. Keys are compared after look-alike letters are made plain
// (look-alikes.ts).
import { plainKey } from "./look-alikes.js";

/** What decides whether a key's value is censored: a RegExp, or any object with this shape. */
export interface KeyMatcher {
  test(key: string): boolean;
}

/**
 * Censored when they appear anywhere in the key, compared lowercase with `-`, `_`, `.` and spaces
 * removed: `newPassword`, `X-Api-Key`, `credit_card_number`, `client_secret`, `sessionId`.
 */
export const SECRET_KEY_PARTS: readonly string[] = Object.freeze([
  "password",
  "passwd",
  "passphrase",
  "pwd",
  "secret",
  "token",
  "credential",
  "authorization",
  "cookie",
  "apikey",
  "accesskey",
  "privatekey",
  "signingkey",
  "encryptionkey",
  "creditcard",
  "cardnumber",
  "cardnum",
  "ccnumber",
  "ccnum",
  "primaryaccountnumber",
  "cvv",
  "cvc",
  "securitycode",
  "verificationcode",
  "verificationvalue",
  "trackdata",
  "track1",
  "track2",
  "magstripe",
  "magneticstripe",
  "passcode",
  "socialsecurity",
  "appkey",
  "masterkey",
  "licensekey",
  "jwt",
  "sessionid",
  "connectionstring",
]);

/**
 * Censored when they are a whole word of the key (camelCase, snake_case, kebab-case, dotted or
 * bracketed): `pin`, `userPin`, `PIN_CODE`, `otp`, `auth`, `x-auth`, `ssn`, `iban`, `session`,
 * and `card` (so `card[number]`, `card.cvc` and a whole `card` object: every spelling of a
 * payment card's fields, at the price of `cardType` too).
 */
export const SECRET_KEY_WORDS: readonly string[] = Object.freeze([
  "pass",
  "pin",
  "otp",
  "totp",
  "mfa",
  "auth",
  "ssn",
  "iban",
  "session",
  "sid",
  "sig",
  "signature",
  "pan",
  "card",
  "cid",
  "csc",
  "cvn",
  "cav",
]);

/**
 * Censored when they are the whole key, any case: `code` (an OAuth authorization code), `key`
 * (an API key; `primaryKey` or `sortKey` are not censored).
 */
export const SECRET_KEY_NAMES: readonly string[] = Object.freeze(["code", "key"]);

// A part may be written with one separator between any two letters (`api_key`, `Card-Number`,
// `api[key]`);
// matching it so needs no copy of the key, which matters: every key of every body is tested.
const PARTS = new RegExp(
  SECRET_KEY_PARTS.map((part) => [...part].join("[-_.\\s[\\]]?")).join("|"),
  "i",
);
// Cheap first pass for the word rule: a key without these letters has none of the words.
const WORD_CANDIDATE = new RegExp(SECRET_KEY_WORDS.join("|"), "i");
const WORDS = new Set(SECRET_KEY_WORDS);
const NAMES = new RegExp(`^(?:${SECRET_KEY_NAMES.join("|")})$`, "i");

/** The words of a key: `userPIN_code2` → `user`, `pin`, `code`, `2`. */
function words(key: string): string[] {
  return key
    .replace(/([a-z\d])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .replace(/([a-zA-Z])(\d)/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z\d]+/);
}

/** The default rule itself, without the memo. */
function isSecretKey(raw: string): boolean {
  const key = plainKey(raw);
  if (PARTS.test(key) || NAMES.test(key)) return true;
  if (!WORD_CANDIDATE.test(key)) return false;
  for (const word of words(key)) if (WORDS.has(word)) return true;
  return false;
}

// The same keys come back request after request (`id`, `name`, `host`, `accept`): their answers
// are kept, as the rule is a pure function of the key. Bounded, since keys of queries and bodies
// are the client's: short keys only, and once full, new keys are judged without being kept.
const MEMO_MAX_KEYS = 1024;
const MEMO_MAX_KEY_CHARS = 64;
const memo = new Map<string, boolean>();

/** The default `redact.keys`. */
export const DEFAULT_REDACT_KEYS: KeyMatcher = Object.freeze({
  test(raw: string): boolean {
    const known = memo.get(raw);
    if (known !== undefined) return known;
    const secret = isSecretKey(raw);
    if (memo.size < MEMO_MAX_KEYS && raw.length <= MEMO_MAX_KEY_CHARS) memo.set(raw, secret);
    return secret;
  },
});

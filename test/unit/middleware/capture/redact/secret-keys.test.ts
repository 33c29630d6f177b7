// The default secret keys: each common spelling of a payment card field, a security code, a
// passcode, a social security number and an API key is censored, also spelled with look-alike
// letters; ordinary words that merely contain those letters are not.
import { describe, expect, it } from "vitest";
import { DEFAULT_REDACT_KEYS } from "../../../../../middleware/capture/redact/secret-keys.js";

const CENSORED = [
  // Payment cards: the PAN, in the spellings of form encodings, JSON and SDKs.
  "card[number]",
  "card.number",
  "cardNumber",
  "card_number",
  "card",
  "pan",
  "primaryAccountNumber",
  // Card security and verification codes (PCI DSS: never stored after authorisation).
  "cvv",
  "cvc",
  "cvv2",
  "cvc2",
  "CVV2",
  "cid",
  "csc",
  "cav2",
  "securityCode",
  "security_code",
  "card[cvc]",
  "verificationCode",
  // Full track data and PIN blocks (PCI DSS).
  "track1",
  "track_2",
  "trackData",
  "magstripe",
  "pinBlock",
  // Passcodes, social security numbers, API keys.
  "passcode",
  "userPasscode",
  "ssn",
  "social_security_number",
  "socialSecurityNumber",
  "key",
  "KEY",
  "apiKey",
  "api_key",
  "api[key]",
  "x-api-key",
  "appKey",
  "masterKey",
  "licenseKey",
];

/** Look-alike spellings: Cyrillic, Greek, long s, fullwidth, ligatures, invisible characters. */
const LOOK_ALIKES = [
  "pаsswоrd", // Cyrillic а and о
  "раssword", // Cyrillic р and а
  "tоkеn", // Cyrillic о and е
  "ѕесrеt", // Cyrillic ѕ, е, с, р
  "paſſword", // long s
  "ｐａｓｓｗｏｒｄ", // fullwidth
  "ＡＰＩ＿ＫＥＹ", // fullwidth capitals and low line
  "ﬁrst_secret", // a ligature before a real part
  "pass\u200bword", // zero-width space
  "pa\u0301ssword", // combining accent
  "ΡΑSSWORD", // Greek capitals Ρ and Α
  "сvv", // Cyrillic с
  "ѕѕn", // Cyrillic ѕ
  "kеy", // Cyrillic е
];

const KEPT = [
  "keyboard",
  "monkey",
  "turkey",
  "primaryKey",
  "sortKey",
  "cacheKey",
  "keys",
  "hockey",
  "cardinality",
  "discard",
  "scorecard",
  "panel",
  "company",
  "pancake",
  "cider",
  "decide",
  "acid",
  "tracking",
  "soccer",
  "number",
  "name",
  "amount",
  "currency",
  "email",
  "shipping",
  "author",
];

describe("DEFAULT_REDACT_KEYS", () => {
  it.each(CENSORED)("censors %s", (key) => {
    expect(DEFAULT_REDACT_KEYS.test(key)).toBe(true);
  });

  it.each(LOOK_ALIKES)("censors the look-alike %s", (key) => {
    expect(DEFAULT_REDACT_KEYS.test(key)).toBe(true);
  });

  it.each(KEPT)("keeps %s", (key) => {
    expect(DEFAULT_REDACT_KEYS.test(key)).toBe(false);
  });

  it("answers the same when asked again, and after thousands of other keys", () => {
    const keys = [...CENSORED, ...LOOK_ALIKES, ...KEPT];
    const first = keys.map((k) => DEFAULT_REDACT_KEYS.test(k));
    expect(keys.map((k) => DEFAULT_REDACT_KEYS.test(k))).toEqual(first);
    // Keys a client makes up, past what the rule keeps answers for: new keys are still judged.
    for (let i = 0; i < 5000; i++) DEFAULT_REDACT_KEYS.test(`field${i}`);
    expect(DEFAULT_REDACT_KEYS.test("newPassword2")).toBe(true);
    expect(DEFAULT_REDACT_KEYS.test("card_holder_pin")).toBe(true);
    expect(DEFAULT_REDACT_KEYS.test("shippingAddress")).toBe(false);
    expect(DEFAULT_REDACT_KEYS.test(`${"x".repeat(100)}_token`)).toBe(true);
    expect(keys.map((k) => DEFAULT_REDACT_KEYS.test(k))).toEqual(first);
  });
});

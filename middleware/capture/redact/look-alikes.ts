// Keys spelled with look-alike letters (`pаssword` with a Cyrillic а, `paſſword`, fullwidth
// `ｐａｓｓｗｏｒｄ`), brought back to the ASCII letters they imitate before the secret-key rules
// test them, so a client cannot slip a secret past the default redaction by its spelling.

// Letters of other scripts that look like Latin ones and that Unicode normalisation keeps apart
// (a small part of Unicode's confusables.txt: Cyrillic and Greek, both cases, and dotless i).
const CONFUSABLES: Readonly<Record<string, string>> = Object.freeze({
  а: "a",
  в: "b",
  е: "e",
  ё: "e",
  к: "k",
  м: "m",
  н: "h",
  о: "o",
  р: "p",
  с: "c",
  т: "t",
  у: "y",
  х: "x",
  ѕ: "s",
  і: "i",
  ї: "i",
  ј: "j",
  ԁ: "d",
  ԛ: "q",
  ԝ: "w",
  һ: "h",
  ӏ: "l",
  А: "A",
  В: "B",
  Е: "E",
  К: "K",
  М: "M",
  Н: "H",
  О: "O",
  Р: "P",
  С: "C",
  Т: "T",
  У: "Y",
  Х: "X",
  Ѕ: "S",
  І: "I",
  Ј: "J",
  Ԁ: "D",
  Ԛ: "Q",
  Ԝ: "W",
  Һ: "H",
  Ӏ: "I",
  α: "a",
  β: "b",
  ε: "e",
  ι: "i",
  κ: "k",
  ν: "v",
  ο: "o",
  ρ: "p",
  τ: "t",
  υ: "u",
  χ: "x",
  Α: "A",
  Β: "B",
  Ε: "E",
  Ζ: "Z",
  Η: "H",
  Ι: "I",
  Κ: "K",
  Μ: "M",
  Ν: "N",
  Ο: "O",
  Ρ: "P",
  Τ: "T",
  Υ: "Y",
  Χ: "X",
  ı: "i",
});
const CONFUSABLE = new RegExp(`[${Object.keys(CONFUSABLES).join("")}]`, "gu");
// Combining marks (after decomposition: `á` is `a` and an accent) and invisible format
// characters (zero-width space and joiners, soft hyphen, BOM).
const MARKS_AND_INVISIBLES = /[\p{M}\p{Cf}]/gu;
const ASCII = /^[\x20-\x7e]*$/;

/**
 * `key` with look-alikes brought back to ASCII: compatibility decomposition (NFKD: fullwidth
 * letters, ligatures and the long s become their plain letters), combining marks and invisible
 * characters dropped, then Cyrillic and Greek look-alikes mapped. An ASCII key is returned as is.
 */
export function plainKey(key: string): string {
  if (ASCII.test(key)) return key;
  return key
    .normalize("NFKD")
    .replace(MARKS_AND_INVISIBLES, "")
    .replace(CONFUSABLE, (char) => CONFUSABLES[char] ?? char);
}

// Credentials in messages and log lines: the user info of any URI and secret-looking query
// parameters are redacted, the rest of the text kept to say what was wrong.
import { describe, expect, it } from "vitest";
import { redactCredentials } from "../../../../shared/util/url-credentials.js";

const R = "[REDACTED]";

describe("redactCredentials", () => {
  it.each([
    ["mongodb://admin:S3cret@db:27017/", `mongodb://${R}@db:27017/`],
    [`got "mongdb://admin:S3cret@db.example:27017/"`, `got "mongdb://${R}@db.example:27017/"`],
    ["mongodb+srv://u:p@cluster/?retryWrites=true", `mongodb+srv://${R}@cluster/?retryWrites=true`],
    ["no scheme admin:S3cret@db:27017", `no scheme ${R}@db:27017`],
    ["mongodb:/admin:S3cret@db", `mongodb:/${R}@db`],
    ["mongodb://db/?password=S3cret&w=1", `mongodb://db/?password=${R}&w=1`],
    [
      "mongodb://db/?tls=true&tlsCertificateKeyFilePassword=S3cret",
      `mongodb://db/?tls=true&tlsCertificateKeyFilePassword=${R}`,
    ],
    [
      "mongodb://db/?authMechanismProperties=AWS_SESSION_TOKEN:S3cret",
      `mongodb://db/?authMechanismProperties=${R}`,
    ],
    [
      "https://x/?token=S3cret;secret=S3cret&apiKey=S3cret",
      `https://x/?token=${R};secret=${R}&apiKey=${R}`,
    ],
    ["https://x/?credentials=S3cret", `https://x/?credentials=${R}`],
  ])("%s", (text, expected) => {
    expect(redactCredentials(text)).toBe(expected);
  });

  it.each([
    "mongodb://db:27017/audit?w=majority",
    "an email user@example.com stays",
    "expected an integer from 1 to 100, got `0` (number)",
  ])("keeps %s", (text) => {
    expect(redactCredentials(text)).toBe(text);
  });
});

// Credentials in a URL anywhere in a value (a connection string in a body field, an error
// message): the user info is censored, the rest of the URL and the text around it kept.
import { describe, expect, it } from "vitest";
import { censorUrlCredentials } from "../../../../shared/util/url-credentials.js";

const C = "[REDACTED]";

describe("censorUrlCredentials", () => {
  it.each([
    ["postgres://app:hunter2@db.internal:5432/main", `postgres://${C}@db.internal:5432/main`],
    [
      "mongodb+srv://admin:p%40ss@cluster0.example.net/?retryWrites=true",
      `mongodb+srv://${C}@cluster0.example.net/?retryWrites=true`,
    ],
    ["redis://:onlypass@cache:6379/0", `redis://${C}@cache:6379/0`],
    ["amqps://user:pw@mq.example", `amqps://${C}@mq.example`],
    [
      "connect ECONNREFUSED mysql://root:toor@10.0.0.5:3306/app, retrying",
      `connect ECONNREFUSED mysql://${C}@10.0.0.5:3306/app, retrying`,
    ],
    [
      "a=https://u:p@one.example/x b=ftp://v:q@two.example",
      `a=https://${C}@one.example/x b=ftp://${C}@two.example`,
    ],
    ["http://a@b:c@host/p", `http://${C}@host/p`],
  ])("%s", (value, expected) => {
    expect(censorUrlCredentials(value, C)).toBe(expected);
  });

  it.each([
    "ann@example.com",
    "https://example.com/users/ann@example.com",
    "see https://example.com?to=a@b",
    "no url here",
    "x".repeat(10_000),
  ])("keeps %s", (value) => {
    expect(censorUrlCredentials(value, C)).toBe(value);
  });

  it("stays linear on a long run of scheme-like text", () => {
    const value = `${"a".repeat(200_000)}://${"b".repeat(200_000)}`;
    const started = performance.now();
    expect(censorUrlCredentials(value, C)).toBe(value);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

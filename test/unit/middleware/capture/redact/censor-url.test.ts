// User info in a recorded URL: censored in absolute and protocol-relative forms, the rest kept.
import { describe, expect, it } from "vitest";
import { censorUrl } from "../../../../../middleware/capture/redact/censor.js";
import { censorUserinfo } from "../../../../../shared/util/url-credentials.js";

const C = "[REDACTED]";

describe("censorUserinfo", () => {
  it.each([
    ["http://user:secret@host/path", `http://${C}@host/path`],
    ["HTTPS://user:secret@host:8443/p?q=1", `HTTPS://${C}@host:8443/p?q=1`],
    ["//user:secret@host/path", `//${C}@host/path`],
    ["http://a@b:se@cret@host/x", `http://${C}@host/x`],
    ["http:\\\\user:secret@host/x", `http:\\\\${C}@host/x`],
    ["postgres://app:pw@db.internal:5432/main", `postgres://${C}@db.internal:5432/main`],
  ])("%s → %s", (url, expected) => {
    expect(censorUserinfo(url, C)).toBe(expected);
  });

  it.each([
    "/path",
    "/users/ann@example.com",
    "/a//b@c",
    "http://host/mail@box",
    "http://host?to=a@b",
    "",
  ])("keeps %s as it is: no user info", (url) => {
    expect(censorUserinfo(url, C)).toBe(url);
  });
});

describe("censorUrl (Referer, Origin)", () => {
  it("censors a protocol-relative URL's user info and its query", () => {
    expect(censorUrl("//u:pw@shop.example/p?token=x", C)).toBe(`//${C}@shop.example/p?${C}`);
  });
});

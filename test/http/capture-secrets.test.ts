// Property test of the default redaction: a secret placed anywhere the defaults claim to cover
// (redacted headers, Referer's query and user info, secret-named keys in query, body, meta and
// header names, route params of the route and of mounted routers in any percent-encoding, and
// key=value pairs in an error message) never appears in any stored byte of the record; nor does
// the user info of a connection string in any value.
import type { Document } from "bson";
import { EJSON } from "bson";
import type { NextFunction, Request, Response } from "express";
import fc from "fast-check";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { DEFAULT_HEADERS } from "../../middleware/index.js";
import { expressVersions, harness } from "./harness.js";

/** Keys the defaults claim to censor, as apps spell them. */
const SECRET_KEYS = [
  "password",
  "newPassword",
  "PASSWORD",
  "passwd",
  "pwd",
  "pass",
  "user_pass",
  "passphrase",
  "secret",
  "client_secret",
  "token",
  "access_token",
  "refreshToken",
  "apiKey",
  "api_key",
  "X-Api-Key",
  "authorization",
  "auth",
  "authToken",
  "private_key",
  "privateKey",
  "credentials",
  "ssn",
  "userSSN",
  "pin",
  "PIN_CODE",
  "cardPin",
  "otp",
  "otpCode",
  "cvv",
  "cvc",
  "creditCard",
  "card_number",
  "cardNumber",
  "ccNumber",
  "iban",
  "code",
  "session",
  "sessionId",
  "sid",
  "jwt",
  "signature",
  "connectionString",
  // Payment cards (PCI DSS: the PAN, security codes, track data, PIN blocks), passcodes,
  // social security numbers, API keys, and keys spelled with look-alike letters.
  "card[number]",
  "card.number",
  "card_number",
  "cvv2",
  "cvc2",
  "cid",
  "csc",
  "securityCode",
  "track2",
  "pinBlock",
  "passcode",
  "social_security_number",
  "key",
  "api_key",
  "pаsswоrd",
  "paſſword",
  "ｐａｓｓｗｏｒｄ",
];

// Secrets without the characters that end a value in free text (space, quotes, `&`, `,`, `;`).
const secret = fc
  .string({
    unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+~!*-"),
    minLength: 12,
    maxLength: 32,
  })
  .map((s) => `Q${s}`);

/** A percent-encoding of `text` as a client may send it: any character, either hex case. */
const encodedAs = (text: string) =>
  fc
    .array(fc.tuple(fc.boolean(), fc.boolean()), { minLength: text.length, maxLength: text.length })
    .map((choices) =>
      [...text]
        .map((char, i) => {
          const [encode, lower] = choices[i] as [boolean, boolean];
          const must = encodeURIComponent(char) !== char;
          if (!encode && !must) return char;
          const hex = `%${char.charCodeAt(0).toString(16).padStart(2, "0")}`;
          return lower ? hex.toLowerCase() : hex.toUpperCase();
        })
        .join(""),
    );

const placement = fc.record({
  queryKey: fc.constantFrom(...SECRET_KEYS),
  bodyKey: fc.constantFrom(...SECRET_KEYS),
  metaKey: fc.constantFrom(...SECRET_KEYS),
  errorKey: fc.constantFrom(...SECRET_KEYS),
  errorForm: fc.constantFrom("KEY=VAL", "KEY: VAL", '"KEY":"VAL"', "?KEY=VAL&x=1"),
  header: fc.constantFrom(
    "authorization",
    "cookie",
    "x-api-key",
    "proxy-authorization",
    "x-auth-token",
  ),
  route: fc.constantFrom("reset", "invite"),
});

/** Every string stored in the record, as stored and percent-decoded. */
function storedTexts(record: Document): string[] {
  const texts = [EJSON.stringify(record, { relaxed: true })];
  const walk = (value: unknown): void => {
    if (typeof value === "string") {
      try {
        texts.push(decodeURIComponent(value));
      } catch {
        texts.push(value);
      }
    } else if (typeof value === "object" && value !== null) {
      for (const [k, v] of Object.entries(value)) {
        walk(k);
        walk(v);
      }
    }
  };
  walk(record);
  return texts;
}

describe("default redaction", () => {
  it.each(expressVersions)("on $name: a covered secret is never stored", async ({ express }) => {
    const h = harness({
      captureBody: true,
      headers: [
        ...DEFAULT_HEADERS,
        "authorization",
        "cookie",
        "x-api-key",
        "proxy-authorization",
        "x-auth-token",
      ],
    });
    let next: { metaKey: string; errorText: string; secret: string } | undefined;
    const app = express();
    app.use(h.audit);
    app.use(express.json());
    const handle = (req: Request, _res: Response, fail: NextFunction) => {
      const t = next as NonNullable<typeof next>;
      req.audit.set({ detail: { [t.metaKey]: t.secret } });
      fail(new Error(`login failed: ${t.errorText}`));
    };
    app.post("/reset/:token", handle);
    const invite = express.Router();
    invite.post("/accept", handle);
    app.use("/invite/:token", invite);
    app.use(h.audit.captureErrors);
    app.use((_err: unknown, _req: Request, res: Response, _next: NextFunction) => {
      res.status(400).send("no");
    });

    let sent = 0;
    await fc.assert(
      fc.asyncProperty(
        placement,
        secret.chain((s) => fc.tuple(fc.constant(s), encodedAs(s))),
        async (p, [value, encoded]) => {
          const errorText = p.errorForm.replace("KEY", p.errorKey).replace("VAL", value);
          next = { metaKey: p.metaKey, errorText, secret: value };
          const path = p.route === "reset" ? `/reset/${encoded}` : `/invite/${encoded}/accept`;
          await request(app)
            .post(`${path}?${new URLSearchParams({ [p.queryKey]: value, page: "2" })}`)
            .set(p.header, `Bearer ${value}`)
            .set(
              "referer",
              `https://u:${encodeURIComponent(value)}@shop.example/p?${encodeURIComponent(p.queryKey)}=${encodeURIComponent(value)}#${value}`,
            )
            .send({ profile: { [p.bodyKey]: value, name: "Ann" } })
            .expect(400);
          sent++;
          const records = await h.records(sent);
          const record = records[sent - 1] as Document;
          for (const text of storedTexts(record)) expect(text).not.toContain(value);
          // What is not secret is kept.
          expect(record.request.query.page).toBe("2");
          expect(record.request.body.profile.name).toBe("Ann");
          expect(record.request.route).toMatch(/^\/(reset|invite)\/:token/);
          expect(record.request.headers.referer).toBe(
            "https://[REDACTED]@shop.example/p?[REDACTED]",
          );
          expect(record.outcome.error).toMatch(/^login failed: /);
        },
      ),
      { numRuns: 200 },
    );
    await h.audit.close();
  });
});

describe("connection strings and ordinary keys", () => {
  it.each(expressVersions)(
    "on $name: a URL's credentials are censored in any value; ordinary keys are kept",
    async ({ express }) => {
      const h = harness({ captureBody: true });
      const app = express();
      app.use(h.audit);
      app.use(express.json());
      app.post("/settings", (req, _res, next) => {
        req.audit.set({ note: "moved to postgres://app:m3ta-pw@db.internal/main" });
        next(new Error("connect failed: mongodb+srv://admin:3rr-pw@cluster0.example.net/x"));
      });
      app.use(h.audit.captureErrors);
      app.use((_err: unknown, _req: Request, res: Response, _next: NextFunction) => {
        res.status(500).send("no");
      });
      await request(app)
        .post("/settings?dsn=redis://:q-pw@cache:6379/0")
        .send({
          database: { url: "postgres://app:b0dy-pw@db.internal:5432/main" },
          list: ["amqps://user:l1st-pw@mq.example"],
          keyboard: "qwerty",
          monkey: "see",
          turkey: "gobble",
          primaryKey: "id",
        })
        .expect(500);
      const [record] = (await h.records(1)) as Document[];
      const stored = EJSON.stringify(record);
      for (const secret of ["m3ta-pw", "3rr-pw", "q-pw", "b0dy-pw", "l1st-pw"]) {
        expect(stored).not.toContain(secret);
      }
      expect(record?.request.body).toEqual({
        database: { url: "postgres://[REDACTED]@db.internal:5432/main" },
        list: ["amqps://[REDACTED]@mq.example"],
        keyboard: "qwerty",
        monkey: "see",
        turkey: "gobble",
        primaryKey: "id",
      });
      expect(record?.request.query).toEqual({ dsn: "redis://[REDACTED]@cache:6379/0" });
      expect(record?.meta).toEqual({ note: "moved to postgres://[REDACTED]@db.internal/main" });
      expect(record?.outcome.error).toBe(
        "connect failed: mongodb+srv://[REDACTED]@cluster0.example.net/x",
      );
      await h.audit.close();
    },
  );
});

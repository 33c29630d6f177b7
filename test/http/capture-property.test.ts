// Property tests: whatever bodies, headers, query strings and meta an app sees, capture never
// throws, never leaks a censored value in any form, and yields a record MongoDB accepts.
import { randomBytes } from "node:crypto";
import { EJSON } from "bson";
import fc from "fast-check";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb } from "../helpers/services.js";
import { expressVersions, harness } from "./harness.js";

const CUSTOM_HEADERS = ["x-custom", "x-dotted.name", "x-$dollar"];

// Header values: what an HTTP client may send (visible ASCII and inner spaces).
const headerValue = fc
  .string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) })
  .map((s) => s.trim());

const hostileKey = fc.oneof(
  fc.string(),
  fc.constantFrom(
    "$where",
    "$oid",
    "a.b",
    "__proto__",
    "constructor",
    "prototype",
    "_bsontype",
    "",
  ),
);

const meta = fc.dictionary(
  hostileKey,
  fc.anything({
    key: hostileKey,
    maxDepth: 4,
    withBigInt: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withTypedArray: true,
    withNullPrototype: true,
    withSparseArray: true,
    withBoxedValues: true,
  }),
  { maxKeys: 6 },
);

const input = fc.record({
  body: fc.jsonValue({ maxDepth: 4 }),
  query: fc.dictionary(fc.string(), fc.string(), { maxKeys: 5 }),
  headers: fc.tuple(headerValue, headerValue, headerValue),
  meta,
  odd: fc.constantFrom("function", "symbol", "circular", "none"),
});

/** Every form a leaked secret could take in the stored record. */
function forms(secret: string): string[] {
  return [
    secret,
    Buffer.from(secret).toString("base64"),
    Buffer.from(secret).toString("hex"),
    encodeURIComponent(secret),
  ].map((s) => s.toLowerCase());
}

describe("capture properties", () => {
  let mongo: TestDb;
  beforeAll(async () => {
    mongo = await createTestDb();
  });
  afterAll(async () => {
    await mongo.dispose();
  });

  it.each(expressVersions)(
    "on $name: never throws, never leaks, always insertable",
    async ({ express }) => {
      const h = harness({
        captureBody: true,
        maxBodyBytes: 4096,
        headers: ["authorization", "cookie", "x-api-key", "user-agent", ...CUSTOM_HEADERS],
      });
      let nextMeta: Record<string, unknown> = {};
      const app = express();
      app.use(h.audit);
      app.use(express.json({ strict: false, limit: "1mb" }));
      app.all("/fuzz/:token", (req, res) => {
        req.audit.set(nextMeta).set({ nested: { password: nextMeta.secret } });
        res.status(200).send("ok");
      });
      const collection = mongo.db.collection("fuzz");
      let seen = 0;

      await fc.assert(
        fc.asyncProperty(input, async ({ body, query, headers, meta: m, odd }) => {
          const secret = `S3CR3T${randomBytes(9).toString("hex")}`;
          const metaValue: Record<string, unknown> = { ...m, secret, apiKey: secret };
          if (odd === "function") metaValue.fn = () => secret;
          if (odd === "symbol") metaValue.sym = Symbol(secret);
          if (odd === "circular") metaValue.self = metaValue;
          nextMeta = metaValue;
          const qs = new URLSearchParams({ ...query, password: secret, access_token: secret });
          const sent = { data: body, password: secret, card: { creditCard: secret } };
          await request(app)
            .post(`/fuzz/${secret}?${qs}`)
            .set("content-type", "application/json")
            .set("authorization", `Bearer ${secret}`)
            .set("cookie", `sid=${secret}`)
            .set("x-api-key", secret)
            .set("x-custom", headers[0])
            .set("x-dotted.name", headers[1])
            .set("x-$dollar", headers[2])
            .send(JSON.stringify(sent))
            .expect(200, "ok");
          const records = await h.records(seen + 1);
          seen = records.length;
          const record = records[seen - 1];
          expect(record).toBeDefined();
          const stored = EJSON.stringify(record as object, { relaxed: true }).toLowerCase();
          for (const form of forms(secret)) expect(stored).not.toContain(form);
          await collection.insertOne(record as object);
        }),
        { numRuns: 150 },
      );
      expect(await collection.countDocuments()).toBeGreaterThanOrEqual(seen);
      await collection.deleteMany({});
      await h.audit.close();
      expect(h.errors).toEqual([]);
    },
  );
});

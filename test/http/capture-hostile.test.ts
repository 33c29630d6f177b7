// Property test: whatever another middleware or the app does to `req` (null and numeric
// headers, deleted properties, getters that throw, proxies, frozen objects), every request
// through a real Express 4 or 5 app still gets exactly one full record.
import type { NextFunction, Request, RequestHandler, Response } from "express";
import fc from "fast-check";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { expressVersions, harness } from "./harness.js";

type Mutation = (req: Request) => void;

const boom = () => {
  throw new Error("hostile getter");
};
const throwing = { get: boom, set: boom, configurable: true };
const define = (key: string, descriptor: PropertyDescriptor): Mutation => {
  return (req) => Object.defineProperty(req, key, descriptor);
};
const setHeader = (name: string, value: unknown): Mutation => {
  return (req) => {
    (req.headers as Record<string, unknown>)[name] = value;
  };
};

const HEADERS = ["host", "user-agent", "x-request-id", "traceparent", "referer", "accept"];
const ODD_VALUES: unknown[] = [
  null,
  42,
  -0,
  Number.NaN,
  true,
  10n,
  Symbol("s"),
  {},
  [1, null, "x"],
  [],
  { toString: boom },
  "x".repeat(200_000),
];
const FIELDS = [
  "headers",
  "method",
  "url",
  "originalUrl",
  "ip",
  "query",
  "body",
  "params",
  "route",
  "baseUrl",
];

/** Header mutations: Express itself copes with them anywhere in the chain. */
const headerMutation: fc.Arbitrary<[string, Mutation]> = fc.oneof(
  fc
    .tuple(fc.constantFrom(...HEADERS), fc.constantFrom(...ODD_VALUES))
    .map(([name, value]): [string, Mutation] => [
      `headers.${name} = ${typeof value}`,
      setHeader(name, value),
    ]),
  fc
    .constantFrom(...HEADERS)
    .map((name): [string, Mutation] => [
      `headers.${name} throws`,
      (req) => Object.defineProperty(req.headers, name, throwing),
    ]),
  fc.constantFrom<[string, Mutation]>(
    ["headers frozen", (req) => Object.freeze(req.headers)],
    ["audit read-only", define("audit", { value: undefined, writable: false })],
  ),
);

/**
 * Mutations of the request's own fields. Express's router reads and writes these between
 * middlewares (and crashes the process on some of them), so they run in the last handler.
 */
const fieldMutation: fc.Arbitrary<[string, Mutation]> = fc.oneof(
  fc
    .constantFrom(...FIELDS)
    .map((key): [string, Mutation] => [`${key} throws`, define(key, throwing)]),
  fc.constantFrom(...FIELDS).map((key): [string, Mutation] => [
    `delete ${key}`,
    (req) => {
      delete (req as unknown as Record<string, unknown>)[key];
    },
  ]),
  fc
    .tuple(fc.constantFrom(...FIELDS), fc.constantFrom(null, 7, "str", Symbol("v")))
    .map(([key, value]): [string, Mutation] => [
      `${key} = ${String(value)}`,
      define(key, { value, writable: true, configurable: true }),
    ]),
  fc.constantFrom<[string, Mutation]>(
    // A frozen or sealed `req` itself breaks Node (24 assigns to it when the response ends),
    // so the objects it holds are frozen instead, and req.audit made read-only (see below).
    ["params frozen", (req) => Object.freeze(req.params)],
    ["query frozen", (req) => Object.freeze(req.query)],
    ["body frozen", (req) => Object.freeze(req.body)],
    [
      "headers proxy throws",
      define("headers", {
        value: new Proxy({}, { get: boom, ownKeys: boom, has: boom }),
        configurable: true,
      }),
    ],
    [
      "params proxy throws",
      define("params", {
        value: new Proxy({ token: "x" }, { get: boom, ownKeys: boom }),
        configurable: true,
      }),
    ],
    [
      "body proxy throws",
      define("body", { value: new Proxy({}, { ownKeys: boom }), configurable: true }),
    ],
    [
      "audit.set(proxy)",
      (req) => {
        req.audit?.set(new Proxy({}, { ownKeys: boom }));
      },
    ],
    [
      "audit.target(bad id)",
      (req) => {
        req.audit?.target("thing", { toString: boom });
      },
    ],
  ),
);

/** Where in the app the mutations run: before auditq, before routing, or in the handler. */
const POSITIONS = ["before", "after", "handler"] as const;
type Position = (typeof POSITIONS)[number];

const scenario = fc.array(
  fc.oneof(
    fc.tuple(fc.constantFrom(...POSITIONS), headerMutation),
    fc.tuple(fc.constant("handler" as const), fieldMutation),
  ),
  { minLength: 1, maxLength: 3 },
);

describe("capture under hostile request mutation", () => {
  it.each(expressVersions)(
    "on $name: one full record per request, whatever happens to req",
    async ({ express }) => {
      const h = harness({ captureBody: true, headers: [...HEADERS, "content-type"] });
      let current: Array<[Position, [string, Mutation]]> = [];
      const mutate =
        (position: Position): RequestHandler =>
        (req: Request, _res: Response, next: NextFunction) => {
          for (const [where, [, apply]] of current) {
            if (where !== position) continue;
            try {
              apply(req);
            } catch {
              // The mutation itself failed (e.g. a property of a frozen request): the request
              // goes on as the app left it, which is what this test is about.
            }
          }
          next();
        };
      const app = express();
      app.use(mutate("before"));
      app.use(h.audit);
      app.use(express.json());
      app.use(mutate("after"));
      const router = express.Router();
      const handler = mutate("handler");
      router.post("/items/:id", (req: Request, res: Response) => {
        // The last code of the chain: nothing of Express's reads req after this.
        handler(req, res, () => {
          res.statusCode = 201;
          res.end("ok");
        });
      });
      app.use("/shops/:shop", router);
      // Whatever Express makes of a broken request, the client gets an answer.
      app.use((_err: unknown, _req: Request, res: Response, _next: NextFunction) => {
        res.statusCode = 500;
        res.end("error");
      });

      let sent = 0;
      await fc.assert(
        fc.asyncProperty(scenario, async (mutations) => {
          current = mutations;
          await request(app)
            .post("/shops/7/items/42?q=1")
            .set("x-request-id", "req-1")
            .send({ a: 1 })
            .timeout(5000);
          sent++;
          const records = await h.records(sent);
          expect(records).toHaveLength(sent);
          const record = records[sent - 1];
          expect(record?.captureError, mutations.map(([p, [l]]) => `${p}: ${l}`).join(", ")).toBe(
            undefined,
          );
        }),
        { numRuns: 150 },
      );
      await h.audit.flush();
      expect(h.sink.records).toHaveLength(sent);
      const ids = new Set(h.sink.records.map((r) => String(r._id)));
      expect(ids.size).toBe(sent);
      await h.audit.close();
    },
  );
});

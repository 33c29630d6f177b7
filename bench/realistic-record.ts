// Realistic audit records for the benches: 400–900 bytes, random request ids, ObjectIds, ids and amounts.
import { randomBytes, randomUUID } from "node:crypto";
import { ObjectId } from "bson";

const ROUTES = ["/orders", "/orders/:id", "/orders/:id/cancel", "/users/:id", "/invoices/:id/pay"];
/** Record number `i`, as the middleware would make it for a typical API call. */
export function realisticRecord(i: number) {
  const route = ROUTES[i % ROUTES.length] as string;
  const id = randomBytes(6).toString("hex");
  const requestId = randomUUID();
  const post = i % 3 === 0;
  return {
    _id: new ObjectId(),
    v: 1,
    ts: new Date(),
    actor: {
      id: `user-${Math.floor(Math.random() * 5000)}`,
      type: "user",
      ip: `10.${i % 255}.${(i * 7) % 255}.${(i * 13) % 255}`,
      userAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36",
    },
    action: `${post ? "POST" : "GET"} ${route}`,
    target: { type: "order", id },
    request: {
      method: post ? "POST" : "GET",
      path: route.replace(":id", id),
      route,
      requestId,
      query:
        i % 2 ? { page: String(i % 10), q: randomBytes(4 + (i % 20)).toString("base64url") } : {},
      headers: { "x-request-id": requestId, "content-type": "application/json" },
      body: post
        ? {
            amount: Math.round(Math.random() * 1e5) / 100,
            currency: "EUR",
            note: "x".repeat(i % 200),
          }
        : undefined,
    },
    // Rounded to the microsecond as middleware/capture/build.ts writes it: a full-precision double
    // carried ~6 B of noise per record into every compressed size (benchmark figures from before
    // 2026-12-01, in the git history of BENCHMARKS.md, used it).
    outcome: {
      status: [200, 201, 204, 404, 500][i % 5],
      durationMs: Math.round(Math.random() * 200_000) / 1000,
    },
  };
}

// Records for the read-side tests: realistic shape, `_id` made at `ts` as the middleware makes it.
import { randomBytes } from "node:crypto";
import { ObjectId } from "bson";
import type { AuditRecord } from "../../shared/wire/record.js";

/** An ObjectId whose time is `at`'s second, unique like the driver's. */
export function idAt(at: Date): ObjectId {
  const time = Math.floor(at.getTime() / 1000)
    .toString(16)
    .padStart(8, "0");
  return ObjectId.createFromHexString(time + randomBytes(8).toString("hex"));
}

/** A stored record at `at`, with the fields a read filter looks at; `extra` overrides them. */
export function readRecord(at: Date, extra: Partial<AuditRecord> = {}): AuditRecord {
  return {
    _id: idAt(at),
    v: 2,
    ts: at,
    actor: { id: "alice" },
    action: "GET /orders/:id",
    request: {
      method: "GET",
      path: "/orders/1",
      route: "/orders/:id",
      requestId: randomBytes(8).toString("hex"),
    },
    outcome: { status: 200, durationMs: 3 },
    service: { name: "shop", host: "h", pid: 1 },
    ...extra,
  };
}

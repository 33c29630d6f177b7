// Apps with the audit viewer mounted at /audit, and a small trail to show in them.

import type express5 from "express";
import type { ErrorRequestHandler, Express } from "express";
import type { AuditRecord } from "../../shared/wire/record.js";
import { createReader, type Reader } from "../../sidecar/read/index.js";
import { auditViewer, type ViewerOptions } from "../../sidecar/viewer/index.js";
import { readRecord } from "./read-records.js";
import { createTestDb, type TestDb } from "./services.js";

/** The start of the sample trail; record i is i × 10 s later. */
export const TRAIL_T0 = Date.parse("2026-03-01T10:00:00Z");
const ACTORS = ["alice", "bob", "carol"];
const ACTIONS = ["GET /orders/:id", "POST /orders", "DELETE /orders/:id", "login"];
const STATUSES = [200, 201, 204, 404, 500];

/** `n` records with actors, actions, targets, statuses and tenants cycling at different periods. */
export function sampleTrail(n: number): AuditRecord[] {
  return Array.from({ length: n }, (_, i) =>
    readRecord(new Date(TRAIL_T0 + i * 10_000), {
      actor: { id: ACTORS[i % 3] as string, ip: "10.0.0.7" },
      action: ACTIONS[i % 4] as string,
      target: { type: "order", id: String(1000 + (i % 7)) },
      outcome: { status: STATUSES[i % 5] as number, durationMs: 2 + (i % 11) },
      tenant: i % 2 ? "acme" : "globex",
      meta: { note: `sample ${i}` },
    }),
  );
}

/** An app on `express` with the viewer at /audit, and an error handler that says it ran. */
export function viewerApp(express: typeof express5, options: ViewerOptions): Express {
  const app = express();
  app.use("/audit", auditViewer(options));
  const handler: ErrorRequestHandler = (err, _req, res, _next) => {
    res.status(500).json({ error: "app error handler", message: (err as Error).message });
  };
  app.use(handler);
  return app;
}

/** A test database holding sampleTrail(n) in `records`, a reader on it, and their disposal. */
export interface SampleTrailDb {
  testDb: TestDb;
  reader: Reader;
  trail: AuditRecord[];
  dispose(): Promise<void>;
}

export async function openSampleTrail(n: number): Promise<SampleTrailDb> {
  const testDb = await createTestDb();
  const trail = sampleTrail(n);
  await testDb.db.collection("records").insertMany(trail);
  const reader = createReader({ mongo: testDb.client, database: testDb.name });
  return {
    testDb,
    reader,
    trail,
    dispose: async () => {
      await reader.close();
      await testDb.dispose();
    },
  };
}

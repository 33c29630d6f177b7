// A small Express app with auditq mounted, as a user would write it.
import express, { type Express, type NextFunction, type Request, type Response } from "express";
import type { AuditqMiddleware } from "../../middleware/index.js";

export function createApp(audit: AuditqMiddleware): Express {
  const app = express();
  app.use(audit);
  // Authentication after auditq: the actor is resolved when the response ends, so it is seen.
  app.use((req: Request, _res: Response, next: NextFunction) => {
    const user = req.header("x-user");
    if (user) (req as Request & { user?: { id: string } }).user = { id: user };
    next();
  });
  const orders = express.Router();
  orders.get("/:id", (req, res) => {
    res.json({ id: req.params.id });
  });
  orders.post("/", (_req, res) => {
    res.status(201).json({ ok: true });
  });
  app.use("/orders", orders);
  app.get("/health", (_req, res) => {
    res.send("ok");
  });
  return app;
}

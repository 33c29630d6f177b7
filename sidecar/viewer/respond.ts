// The viewer's responses: security headers on every one, the 403 page, and errors mapped to status.
import type { NextFunction, Request, Response } from "express";
import type { QueryError } from "../read/index.js";
import { OutOfScopeError } from "./scope.js";

/**
 * The page's Content-Security-Policy: nothing but the viewer's own script, style and API on the
 * same origin; no inline script or style, no plugins, no forms elsewhere, no framing.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");

const HEADERS: Record<string, string> = {
  "Content-Security-Policy": CONTENT_SECURITY_POLICY,
  "X-Content-Type-Options": "nosniff",
  "Cache-Control": "no-store",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
};

/** Sets the viewer's headers on every response it sends, refused ones included. */
export function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.set(HEADERS);
  next();
}

// Says that access was refused and nothing else: no title, count or field of the trail.
const FORBIDDEN_PAGE =
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Forbidden</title></head>' +
  "<body><h1>Forbidden</h1><p>You are not allowed to see this page.</p></body></html>";

/** The 403 answer: a bare page for the browser, `{"error":"forbidden"}` for the API. */
export function forbidden(req: Request, res: Response): void {
  res.status(403);
  if (req.path.startsWith("/api/")) res.json({ error: "forbidden" });
  else res.type("html").send(FORBIDDEN_PAGE);
}

/**
 * Whether `err` is the reader's QueryError. By its code, not `instanceof`: the reader passed in
 * may come from the other module format (ESM or CommonJS) than this file, with its own class.
 */
function isQueryError(err: unknown): err is QueryError {
  return err instanceof Error && (err as { code?: unknown }).code === "ERR_AUDITQ_QUERY";
}

/**
 * Answers an error of a viewer route: a bad query → 400, a query outside the scope → 403, both
 * as `{ error, field }` JSON with the error's message (which never holds the refused value).
 * Anything else is the server's problem: it goes to the app's error handler (`next`), or, once
 * an export has started sending, ends the response so the download shows as broken.
 */
export function answerError(err: unknown, res: Response, next: NextFunction): void {
  if (res.headersSent) {
    res.destroy(err instanceof Error ? err : undefined);
    return;
  }
  if (isQueryError(err)) {
    res.status(400).json({ error: err.message, field: err.field });
  } else if (err instanceof OutOfScopeError) {
    res.status(403).json({ error: err.message, field: err.field });
  } else {
    next(err);
  }
}

// The record stored when building the full one failed: a request is never left without one.

import { censorUserinfo } from "../../shared/util/url-credentials.js";
import { type AuditRecord, RECORD_VERSION } from "../../shared/wire/record.js";
import { asText, field, requestPath } from "./read.js";
import {
  errorMessage,
  MAX_PATH_CHARS,
  paramsOf,
  secretValues,
  statusOf,
  UNKNOWN,
} from "./record-fields.js";
import { censorPathValues, scrubText } from "./redact/censor.js";
import type { RequestEnd } from "./request-facts.js";
import { bounded } from "./sanitize.js";

/**
 * `_id`, `ts`, method, path (redacted params censored), status, and in `captureError` why the
 * full record could not be built. Every field is read defensively; a path that cannot be
 * censored is not kept.
 */
export function minimalRecord(end: RequestEnd, cause: unknown): AuditRecord {
  const { config, begin, ctx, seen, req, res, aborted, now } = end;
  const method = bounded(asText(field(req, "method")) ?? UNKNOWN, 256);
  let path: string;
  try {
    const secrets = secretValues(config, paramsOf(seen, req));
    path =
      secrets === null
        ? UNKNOWN
        : censorPathValues(
            bounded(censorUserinfo(requestPath(req), config.censor), MAX_PATH_CHARS),
            secrets,
            config.censor,
          );
  } catch {
    // Without the params' names, a token in the path could not be told apart: leave it out.
    path = UNKNOWN;
  }
  return {
    _id: begin.id,
    v: RECORD_VERSION,
    source: "http",
    ts: begin.ts,
    actor: { id: null },
    action: `${method} ${path}`,
    request: { method, path, route: null, requestId: ctx.requestId },
    outcome: {
      status: aborted ? 499 : statusOf(res),
      durationMs: Math.round((now - begin.beganAt) * 1000) / 1000,
      ...(aborted ? { aborted: true } : {}),
    },
    service: config.service,
    captureError: scrubText(errorMessage(cause), config.redactKeys, config.censor),
  };
}

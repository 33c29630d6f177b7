// Builds the record of one `audit.record()` call: its input, checked, over the context it runs
// in, sanitized, redacted and trimmed as a captured record is.
import { ObjectId } from "bson";
import { type AuditActor, type AuditRecord, RECORD_VERSION } from "../../shared/wire/record.js";
import { cleaned, fitRecord, rulesOf } from "../capture/build.js";
import { field } from "../capture/read.js";
import { errorMessage } from "../capture/record-fields.js";
import { scrubText } from "../capture/redact/censor.js";
import { bounded, type SanitizeState } from "../capture/sanitize.js";
import type { ActorResult } from "../config/options.js";
import type { Config } from "../config/resolve.js";
import { type CheckedInput, causeOf, MAX_ID_CHARS } from "./input.js";
import type { Scope } from "./scope.js";

/** An actor as the `actor` option returns it, as the record stores it. */
function actorOf(result: ActorResult): AuditActor {
  let id: unknown = result;
  let type: unknown;
  if (typeof result === "object" && result !== null) {
    id = field(result, "id");
    type = field(result, "type");
  }
  const actor: AuditActor = {
    id: typeof id === "string" || typeof id === "number" ? bounded(String(id), MAX_ID_CHARS) : null,
  };
  if (typeof type === "string") actor.type = bounded(type, MAX_ID_CHARS);
  return actor;
}

/** The record of `input` in `scope`, and the fields trimmed to fit `maxRecordBytes`. */
export function buildOwnRecord(
  input: CheckedInput,
  scope: Scope | undefined,
  config: Config,
  onActorError: (cause: unknown) => void,
): { record: AuditRecord; trimmed: string[] } {
  let actor: ActorResult = input.actor;
  if (!input.hasActor && scope !== undefined) {
    try {
      actor = scope.actor();
    } catch (err) {
      // The `actor` option threw for the request this work came from: recorded as anonymous.
      onActorError(err);
    }
  }
  const record: AuditRecord = {
    _id: new ObjectId(),
    v: RECORD_VERSION,
    source: "record",
    ts: new Date(),
    actor: actorOf(actor),
    action: input.action,
    service: config.service,
  };
  const tenant = input.tenant ?? scope?.tenant;
  if (tenant !== undefined) record.tenant = tenant;
  const causedBy = causeOf(input.requestId, scope?.causedBy);
  if (causedBy !== undefined) record.causedBy = { ...causedBy };
  if (input.target !== undefined) record.target = { ...input.target };
  const { outcome } = input;
  if (outcome !== undefined) {
    record.outcome = {
      status: outcome.status,
      durationMs: Math.round(outcome.durationMs * 1000) / 1000,
    };
    if (outcome.error !== undefined) {
      const message = errorMessage(outcome.error);
      record.outcome.error = scrubText(message, config.redactKeys, config.censor);
    }
  }
  const states: SanitizeState[] = [];
  if (input.meta !== undefined) {
    // Sanitized as it is: a getter that throws becomes a marker, `__proto__` an escaped key.
    record.meta = cleaned(input.meta, rulesOf(config), config.maxRecordBytes, states) as Record<
      string,
      unknown
    >;
  }
  const extraBytes = record.action.length * 2 + (record.outcome?.error?.length ?? 0) * 2;
  return { record, trimmed: fitRecord(record, states, extraBytes, config) };
}

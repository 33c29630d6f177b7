// `audit.record()` and `audit.as()`: records of operations that are not requests (jobs,
// workers, CLIs), handed to the same sink as captured records.
import { ObjectId } from "bson";
import { AuditqError } from "../../shared/util/errors.js";
import { callHook } from "../../shared/util/hooks.js";
import { invalid } from "../../shared/util/validate.js";
import { type AuditRecord, RECORD_VERSION } from "../../shared/wire/record.js";
import { errorMessage } from "../capture/record-fields.js";
import { scrubText } from "../capture/redact/censor.js";
import type { CaptureErrorKind, MiddlewareMetrics } from "../config/metrics.js";
import type { ActorResult } from "../config/options.js";
import type { Config } from "../config/resolve.js";
import { buildOwnRecord } from "./build.js";
import {
  type AsOptions,
  type CheckedInput,
  causeOf,
  checkActor,
  checkAsOptions,
  checkRecordInput,
  type RecordInput,
} from "./input.js";
import { AsScope, currentScope, runInScope } from "./scope.js";

/** The record()/as() pair of one middleware; `sink` is where its captured records go too. */
export class Recorder {
  constructor(
    private readonly config: Config,
    private readonly metrics: MiddlewareMetrics,
    private readonly sink: (record: AuditRecord) => void,
  ) {}

  /**
   * Records one operation and returns its `_id`. Throws a ConfigError when the input is wrong;
   * after that, nothing throws: a failure inside auditq is counted and reported, and the
   * record is still kept (in minimal form).
   */
  readonly record = (input: RecordInput): ObjectId => {
    const checked = checkRecordInput(input);
    const record = this.build(checked);
    this.metrics.recordsCaptured.inc({ source: "record" });
    this.sink(record);
    return record._id;
  };

  /**
   * Runs `fn` with `actor` (and the options' tenant and request id) as the context of every
   * `record()` call made inside it, however deep in its async work. Returns what `fn` returns.
   */
  readonly as = <R>(actor: ActorResult, optionsOrFn: AsOptions | (() => R), fn?: () => R): R => {
    if (actor === undefined) invalid("as.actor", "an actor (use null for none)", actor);
    const who = checkActor("as.actor", actor);
    const run = typeof optionsOrFn === "function" ? optionsOrFn : fn;
    if (typeof run !== "function") invalid("as.fn", "a function", run);
    const options = checkAsOptions(typeof optionsOrFn === "function" ? undefined : optionsOrFn);
    const parent = currentScope();
    const causedBy =
      options.requestId === undefined
        ? parent?.causedBy
        : causeOf(options.requestId, parent?.causedBy);
    return runInScope(new AsScope(who, options.tenant ?? parent?.tenant, causedBy), run);
  };

  /** The full record, or a minimal one when building it fails (a bug): never none. */
  private build(input: CheckedInput): AuditRecord {
    try {
      const built = buildOwnRecord(input, currentScope(), this.config, (err) =>
        this.report("actor", err),
      );
      if (built.trimmed.length > 0) this.metrics.recordsTrimmed.inc({ source: "record" });
      return built.record;
    } catch (err) {
      this.report("build", err);
      this.metrics.recordsMinimal.inc();
      const { config } = this;
      return {
        _id: new ObjectId(),
        v: RECORD_VERSION,
        source: "record",
        ts: new Date(),
        actor: { id: null },
        action: input.action,
        service: config.service,
        captureError: scrubText(errorMessage(err), config.redactKeys, config.censor),
      };
    }
  }

  private report(kind: CaptureErrorKind, cause: unknown): void {
    this.metrics.captureErrors.inc({ kind });
    const err = new AuditqError("ERR_AUDITQ_CAPTURE", `record() failed (${kind})`, { cause });
    callHook(this.config.onError, err, this.config.logger, "onError");
  }
}

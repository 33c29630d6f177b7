// The middleware's public options: the `Options` type `auditq(options)` takes, and the types of
// its nested options. Their rows (rule, default, doc) are in option-table.ts; resolve.ts turns
// them into a Config.
import type { SQSClient, SQSClientConfig } from "@aws-sdk/client-sqs";
import type { Request, Response } from "express";
import type { Registry } from "prom-client";
import type { AuditqError } from "../../shared/util/errors.js";
import type { Logger } from "../../shared/util/logger.js";
import type { KeyMatcher } from "../capture/redact/secret-keys.js";

/** Options of `auditq(options)`. Every option but `queueUrl` is optional. */
export interface Options {
  /** URL of the SQS queue records go to. Required. */
  queueUrl: string;
  /**
   * An `SQSClient` to use, or the config to build one. Default: `new SQSClient({ maxAttempts: 1,
   * requestHandler: { requestTimeout: sendTimeoutMs, connectionTimeout: 5000,
   * throwOnRequestTimeout: true } })`, which follows the AWS SDK's own chain (credentials,
   * `AWS_REGION`, `AWS_ENDPOINT_URL_SQS`), makes one attempt per call because auditq retries
   * itself, and times each request out. A client passed in is used as is.
   */
  sqs?: SQSClient | SQSClientConfig | undefined;
  /**
   * Who did it: returns the actor's id, or `{ id, type }`. Default: `req.user?.id`, else
   * `req.user?._id`, else `req.auth?.sub`. Called once, when the response ends, so auth
   * middleware mounted after auditq is seen.
   */
  actor?: ((req: Request, res: Response) => ActorResult) | undefined;
  /**
   * Whose data it was, for apps that serve several customers: returns the tenant's id, stored
   * as `tenant` (a string; a number is stored as its text). Default: none, no `tenant` field.
   * Called once, when the response ends. A reader bound to a tenant reads only its records
   * (docs/reading.md#tenants).
   */
  tenant?: ((req: Request, res: Response) => string | number | null | undefined) | undefined;
  /**
   * Leaves a request out when it returns true. Called once, when the response ends. Default:
   * {@link isHealthCheck} (GET/HEAD of `/health`, `/healthz`, `/metrics`… or from kube-probe,
   * Prometheus); `() => false` records every request.
   */
  skip?: ((req: Request, res: Response) => boolean) | undefined;
  /** HTTP methods to record, e.g. `["POST", "PUT", "PATCH", "DELETE"]`. Default: every method. */
  methods?: readonly string[] | undefined;
  /** Share of reads (GET, HEAD, OPTIONS) recorded, from 0 to 1. Default 1 (all). */
  sampleRate?: number | undefined;
  /** What is censored. Default: secret headers, and keys like password, token, api key. */
  redact?: RedactOptions | undefined;
  /** Request headers recorded (allow-list, any case). Default: {@link DEFAULT_HEADERS}. */
  headers?: readonly string[] | undefined;
  /** Record what body parsers left on `req.body` (never the raw stream). Default false. */
  captureBody?: boolean | undefined;
  /** Cap on the recorded body; the rest is cut with a `[auditq: truncated]` marker. Default 8192. */
  maxBodyBytes?: number | undefined;
  /**
   * Cap on one serialized record: larger ones have their largest fields replaced by markers,
   * and are still stored. Default 65536 (at most `maxMessageBytes` less 512).
   */
  maxRecordBytes?: number | undefined;
  /** Also record the stack of a captured error (`outcome.errorStack`). Default false. */
  captureErrorStack?: boolean | undefined;
  /** Names the app in every record's `service`, next to host and pid. Default: none. */
  service?: ServiceOptions | undefined;
  /** Longest a record waits in memory for more to fill a batch. Default 200. */
  lingerMs?: number | undefined;
  /**
   * The queue's `MaximumMessageSize`. Default 262144 (256 KiB, what every queue accepts);
   * 1048576 for queues raised to 1 MiB.
   */
  maxMessageBytes?: number | undefined;
  /** Memory for records not yet sent; beyond it records are dropped and counted. Default 16777216 (16 MiB). */
  maxBufferBytes?: number | undefined;
  /** SendMessageBatch calls in flight at once. Default 4. */
  maxInflight?: number | undefined;
  /** How long `close()` waits for the buffer to drain. Default 10000. */
  closeTimeoutMs?: number | undefined;
  /**
   * Deadline of one SendMessageBatch call: after it the call is abandoned and retried. Also the
   * request timeout of the SQS client auditq builds. Default 15000.
   */
  sendTimeoutMs?: number | undefined;
  /**
   * How message bodies are compressed when that makes them smaller: `"br"` (brotli quality 5),
   * `"gzip"`, or `"none"`. Compressed bodies are base64 text. Default `"br"`.
   */
  compression?: "br" | "gzip" | "none" | undefined;
  /**
   * Carry a compressed message as raw bytes in a Binary `auditq-payload` message attribute
   * instead of base64 text in the body: SQS counts (and bills) a quarter fewer bytes, on send
   * and on receive. Sidecars older than this version cannot decode such messages (they
   * quarantine them without their records): upgrade every sidecar first. Default false.
   */
  binaryPayload?: boolean | undefined;
  /**
   * Shared secret (16 characters at least) for message signing: every message then carries an
   * `auditq-signature` attribute, an HMAC-SHA256 of its body, and a sidecar given the same
   * `signingSecret` quarantines messages without a valid one. Default: none (unsigned).
   */
  signingSecret?: string | undefined;
  /**
   * The on-disk spool that keeps records through an SQS outage, a full buffer, a crash and a
   * restart. On by default, in `<os.tmpdir()>/auditq-spool-<uid>/<first 16 hex of sha256(queueUrl)>`,
   * which survives a `kill -9` or restart on the same host but not a new container: put
   * `spool.dir` on a persistent volume for that. Processes sharing a directory each take a
   * `slot-N` subdirectory of it. `false`: no spool (records beyond `maxBufferBytes`, and what is
   * in memory when the process dies, are lost).
   */
  spool?: SpoolOptions | false | undefined;
  /**
   * When a record counts as captured: `"memory"`, in the batcher's memory (a `kill -9` loses
   * up to `lingerMs` of records); `"disk"`, written to the spool at the end of the event-loop
   * turn, group-committed (`fdatasync`) within 20 ms, and sent from there (a `kill -9` loses
   * none). `"disk"` needs the spool. Default `"memory"`.
   */
  durability?: "memory" | "disk" | undefined;
  /** prom-client registry for the metrics. Default: prom-client's global `register`. */
  registry?: Registry | undefined;
  /** A pino-compatible logger. Default: warnings and errors to the console. */
  logger?: Logger | undefined;
  /** Called with every error inside auditq (never thrown into the app). */
  onError?: ((err: AuditqError) => void) | undefined;
}

/** The `spool` option. */
export interface SpoolOptions {
  /**
   * Base directory of the spool; created if missing. Each process takes the first free
   * `slot-N` subdirectory (N = 0..63) and adopts the segments of slots whose process is gone.
   * Required in this form.
   */
  dir: string;
  /** Disk the spool may take; beyond it records are dropped and counted. Default 1073741824 (1 GiB). */
  maxBytes?: number | undefined;
  /** SQS failing this long sends new messages to disk instead of retrying in memory. Default 5000. */
  afterMs?: number | undefined;
}

/** The `service` option. */
export interface ServiceOptions {
  /** The app's name. */
  name?: string | undefined;
  /** The app's version. */
  version?: string | undefined;
}

/** What the `actor` option returns: an id, or an id with the kind of actor. */
export type ActorResult =
  | string
  | number
  | null
  | undefined
  | { id: string | number | null | undefined; type?: string | undefined };

/** The `redact` option. */
export interface RedactOptions {
  /** Request headers censored (any case). Default: {@link DEFAULT_REDACT_HEADERS}. */
  headers?: readonly string[] | undefined;
  /**
   * Keys censored wherever they appear in body, query, params, meta and header names: a RegExp,
   * exact names (any case), or an object with `test(key)` (to extend the default:
   * `{ test: (k) => DEFAULT_REDACT_KEYS.test(k) || k === "dob" }`). Default:
   * {@link DEFAULT_REDACT_KEYS}. `[]` turns key matching off.
   */
  keys?: RegExp | readonly string[] | KeyMatcher | undefined;
  /** Exact record paths censored too: `"request.body.customer.birthDate"`, `"meta.*.ssn"`. */
  paths?: readonly string[] | undefined;
  /** What censored values become. Default `"[REDACTED]"`. */
  censor?: string | undefined;
}

// Resolves the public Options into a Config: every option validated against the option table
// (option-table.ts, where every default is), defaults filled in; no I/O, no clients built.
import { createHash } from "node:crypto";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import type { SQSClient, SQSClientConfig } from "@aws-sdk/client-sqs";
import type { Request, Response } from "express";
import type { Registry } from "prom-client";
import { type AuditqError, ConfigError } from "../../shared/util/errors.js";
import { consoleLogger, type Logger } from "../../shared/util/logger.js";
import { resolveTable } from "../../shared/util/option-table.js";
import { invalid } from "../../shared/util/validate.js";
import type { BodyEncoding } from "../../shared/wire/envelope.js";
import type { AuditService } from "../../shared/wire/record.js";
import { DEFAULT_REDACT_KEYS, type KeyMatcher } from "../capture/redact/secret-keys.js";
import {
  ENVELOPE_HEADROOM_BYTES,
  MIDDLEWARE_OPTIONS,
  REDACT_OPTIONS,
  SERVICE_OPTIONS,
  SPOOL_OPTIONS,
} from "./option-table.js";
import type { ActorResult, Options, SpoolOptions } from "./options.js";

/** Options with every default filled in. Clients are not built here: see clients.ts. */
export interface Config {
  readonly queueUrl: string;
  /** The client given, or the config to build one from. */
  readonly sqs: SQSClient | SQSClientConfig | undefined;
  readonly actor: (req: Request, res: Response) => ActorResult;
  readonly tenant:
    | ((req: Request, res: Response) => string | number | null | undefined)
    | undefined;
  readonly skip: (req: Request, res: Response) => boolean;
  readonly methods: ReadonlySet<string> | null;
  readonly sampleRate: number;
  readonly redactHeaders: ReadonlySet<string>;
  readonly redactKeys: KeyMatcher | null;
  readonly redactPaths: readonly (readonly string[])[];
  readonly censor: string;
  readonly headers: readonly string[];
  readonly captureBody: boolean;
  readonly maxBodyBytes: number;
  readonly maxRecordBytes: number;
  readonly captureErrorStack: boolean;
  readonly service: Readonly<AuditService>;
  readonly lingerMs: number;
  readonly maxMessageBytes: number;
  readonly maxBufferBytes: number;
  readonly maxInflight: number;
  readonly closeTimeoutMs: number;
  readonly sendTimeoutMs: number;
  /** The `compression` option as the body encoding it means (`"none"` is `identity`). */
  readonly compression: BodyEncoding;
  readonly binaryPayload: boolean;
  readonly signingSecret: string | undefined;
  readonly spool:
    | {
        readonly dir: string;
        readonly maxBytes: number;
        readonly afterMs: number;
        /** `dir` is the default one: if unusable, a warning and memory-only. */
        readonly defaultDir: boolean;
        /** The default's top, the OS temp dir: see middleware/spool/dir-chain.ts. */
        readonly top: string | undefined;
      }
    | undefined;
  readonly durability: "memory" | "disk";
  readonly registry: Registry | undefined;
  readonly logger: Logger;
  readonly onError: (err: AuditqError) => void;
}

/**
 * The default spool directory of a queue: `<tmpdir>/auditq-spool-<uid>/<hash of queueUrl>`.
 * One directory per user, created 0700 and checked to be this user's on every open, as is every
 * level below the temp dir (which must be root's or ours, and sticky if others may write in it:
 * middleware/spool/dir-chain.ts), so another local user can neither read it, nor pre-create
 * or swap it for us (that is refused, loudly). Not
 * $XDG_RUNTIME_DIR: it is a RAM-backed tmpfs with a small size cap, cleared at logout, so a
 * spool there would take the app's memory during an outage and vanish with the session. Not the
 * home directory: services often run with none, or a read-only one. Outliving a new container
 * takes a `spool.dir` on a persistent volume in any case.
 */
function defaultSpoolDir(queueUrl: string, top: string): string {
  const hash = createHash("sha256").update(queueUrl).digest("hex").slice(0, 16);
  const uid = process.getuid?.();
  return join(top, uid === undefined ? "auditq-spool" : `auditq-spool-${uid}`, hash);
}

function resolveSpool(value: SpoolOptions | false | undefined, queueUrl: string): Config["spool"] {
  if (value === false) return undefined;
  if (value === undefined) {
    const top = tmpdir();
    return Object.freeze({
      dir: defaultSpoolDir(queueUrl, top),
      maxBytes: SPOOL_OPTIONS.maxBytes.default,
      afterMs: SPOOL_OPTIONS.afterMs.default,
      defaultDir: true,
      top,
    });
  }
  return Object.freeze({
    ...resolveTable(SPOOL_OPTIONS, value, "spool."),
    defaultDir: false,
    top: undefined,
  });
}

function idOf(value: unknown): string | number | null {
  if (typeof value === "string" || typeof value === "number") return value;
  // An ObjectId (Mongoose, the MongoDB driver) as `req.user._id`.
  if (typeof value === "object" && value !== null) {
    const hex = (value as { toHexString?: unknown }).toHexString;
    if (typeof hex === "function") return String(hex.call(value));
  }
  return null;
}

function defaultActor(req: Request): ActorResult {
  const r = req as Request & { user?: { id?: unknown; _id?: unknown }; auth?: { sub?: unknown } };
  return idOf(r.user?.id) ?? idOf(r.user?._id) ?? idOf(r.auth?.sub);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function compileKeys(keys: RegExp | readonly string[] | KeyMatcher): KeyMatcher | null {
  // A global or sticky RegExp keeps state between `test` calls; the same pattern without does not.
  if (keys instanceof RegExp) return new RegExp(keys.source, keys.flags.replace(/[gy]/g, ""));
  if (Array.isArray(keys)) {
    return keys.length === 0 ? null : new RegExp(`^(?:${keys.map(escapeRegExp).join("|")})$`, "i");
  }
  // auditq's own rule never throws, and headers.ts judges each header name once per config by it.
  if (keys === DEFAULT_REDACT_KEYS) return DEFAULT_REDACT_KEYS;
  const matcher = keys as KeyMatcher;
  return {
    test(key) {
      try {
        return matcher.test(key) === true;
      } catch {
        // Fail closed: a key the app's rule cannot judge is treated as a secret.
        return true;
      }
    },
  };
}

/**
 * A FIFO queue refuses every entry without a MessageGroupId, and one group would serialize all
 * sends; auditq needs no ordering (the sidecar deduplicates by `_id`).
 */
function refuseFifo(queueUrl: string): void {
  if (/\.fifo\/*(?:[?#]|$)/.test(queueUrl)) {
    throw new ConfigError(
      `\`queueUrl\` names a FIFO queue (${queueUrl}); auditq sends to standard queues only: ` +
        "FIFO queues need a MessageGroupId on every message and cap throughput per group, and " +
        "auditq needs neither ordering nor SQS deduplication (records are deduplicated by _id). " +
        "Use a standard queue.",
      { option: "queueUrl" },
    );
  }
}

/** The record cap: the table's range, narrowed so that a record fits in one message. */
function recordCap(given: number | undefined, fallback: number, maxMessageBytes: number): number {
  const limit = maxMessageBytes - ENVELOPE_HEADROOM_BYTES;
  if (given === undefined) return Math.min(fallback, limit);
  const min = Math.min(1024, limit);
  if (given < min || given > limit) {
    invalid("maxRecordBytes", `an integer from ${min} to ${limit}`, given);
  }
  return given;
}

/** The body encoding a `compression` option value means: `"none"` is `identity`. */
export function bodyEncodingOf(compression: NonNullable<Options["compression"]>): BodyEncoding {
  return compression === "none" ? "identity" : compression;
}

/** Validates options and fills in defaults. Throws ConfigError naming the bad option. */
export function resolveOptions(options: Options): Config {
  if (typeof options !== "object" || options === null) {
    invalid("options", "an object", options);
  }
  const o = resolveTable(MIDDLEWARE_OPTIONS, options);
  refuseFifo(o.queueUrl);
  if (o.durability === "disk" && o.spool === false) {
    throw new ConfigError(
      '`durability: "disk"` appends every record to the spool, but `spool` is `false`: give the spool a directory (on a persistent volume to outlive the container), or use `durability: "memory"`',
      { option: "durability" },
    );
  }
  const redact = resolveTable(REDACT_OPTIONS, o.redact ?? {}, "redact.");
  const service = resolveTable(SERVICE_OPTIONS, o.service ?? {}, "service.");
  const logger = o.logger ?? consoleLogger;
  return Object.freeze({
    queueUrl: o.queueUrl,
    sqs: o.sqs,
    actor: o.actor ?? defaultActor,
    tenant: o.tenant,
    skip: o.skip,
    methods: o.methods === undefined ? null : new Set(o.methods.map((m) => m.toUpperCase())),
    sampleRate: o.sampleRate,
    redactHeaders: new Set(redact.headers.map((h) => h.toLowerCase())),
    redactKeys: compileKeys(redact.keys),
    redactPaths: (redact.paths ?? []).map((p) => p.split(".")),
    censor: redact.censor,
    headers: o.headers.map((h) => h.toLowerCase()),
    captureBody: o.captureBody,
    maxBodyBytes: o.maxBodyBytes,
    maxRecordBytes: recordCap(
      options.maxRecordBytes === undefined ? undefined : o.maxRecordBytes,
      MIDDLEWARE_OPTIONS.maxRecordBytes.default,
      o.maxMessageBytes,
    ),
    captureErrorStack: o.captureErrorStack,
    service: Object.freeze({
      ...(service.name === undefined ? {} : { name: service.name }),
      ...(service.version === undefined ? {} : { version: service.version }),
      host: hostname(),
      pid: process.pid,
    }),
    lingerMs: o.lingerMs,
    maxMessageBytes: o.maxMessageBytes,
    maxBufferBytes: o.maxBufferBytes,
    maxInflight: o.maxInflight,
    closeTimeoutMs: o.closeTimeoutMs,
    sendTimeoutMs: o.sendTimeoutMs,
    compression: bodyEncodingOf(o.compression),
    binaryPayload: o.binaryPayload,
    signingSecret: o.signingSecret,
    spool: resolveSpool(o.spool, o.queueUrl),
    durability: o.durability,
    registry: o.registry,
    logger,
    onError: o.onError ?? ((err: AuditqError) => logger.warn({ err }, err.message)),
  });
}

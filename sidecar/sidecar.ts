// The consumer: wires pollers, limiters, the MongoDB writer, quarantine and visibility together.
import { type Message, SQSClient } from "@aws-sdk/client-sqs";
import { type Collection, type Document, MongoClient } from "mongodb";
import { Registry } from "prom-client";
import { type BackoffPolicy, backoffDelay, sleep } from "../shared/backoff.js";
import { ATTR_FORMAT, decodeMessage } from "../shared/envelope.js";
import { ConfigError } from "../shared/errors.js";
import { consoleLogger } from "../shared/logger.js";
import { SQS_MAX_RECEIVE_MESSAGES } from "../shared/sqs-limits.js";
import { ConcurrencyLimiter } from "./concurrency-limiter.js";
import { ensureIndexes } from "./indexes.js";
import { createSidecarMetrics } from "./metrics.js";
import { insertRecords } from "./mongo-sink.js";
import { resolveOptions, type SidecarOptions } from "./options.js";
import { pollLoop } from "./poller.js";
import { type QuarantineEntry, quarantine, recordText } from "./quarantine.js";
import { RateLimiter } from "./rate-limiter.js";
import { withDeterministicIds } from "./record-id.js";
import { SqsOps } from "./sqs-ops.js";
import { type InHand, VisibilityKeeper } from "./visibility.js";
import { Wakeup } from "./wakeup.js";

export type { SidecarOptions } from "./options.js";

export interface Sidecar {
  /** Starts connecting and polling in the background; `isReady()` says when it works. */
  start(): Promise<void>;
  /**
   * Stops polling (aborting long polls), lets writes in flight finish and deletes their
   * messages, releases every other message in hand (visibility 0), closes what it opened.
   * Bounded by `shutdownTimeoutMs`. Idempotent: a second call returns the same promise.
   */
  stop(): Promise<void>;
  /** True once connected, while the last SQS and MongoDB calls succeeded, and not stopping. */
  isReady(): boolean;
  readonly registry: Registry;
}

const RETRY: BackoffPolicy = { baseMs: 200, maxMs: 30_000 };

interface PendingDoc {
  doc: Document;
  owner: InHand;
  index: number;
}

/** Creates the sidecar. Nothing connects until `start()`. Throws ConfigError on bad options. */
export function createSidecar(options: SidecarOptions): Sidecar {
  const config = resolveOptions(options);
  if (!(options.mongo instanceof MongoClient) && typeof options.mongo !== "string") {
    throw new ConfigError("Expected `mongo` to be a MongoClient or a connection string");
  }
  const ownsMongo = !(options.mongo instanceof MongoClient);
  const mongo =
    options.mongo instanceof MongoClient
      ? options.mongo
      : new MongoClient(options.mongo, { serverSelectionTimeoutMS: 5_000 });
  const ownsSqs = !(options.sqs instanceof SQSClient);
  const sqs = options.sqs instanceof SQSClient ? options.sqs : new SQSClient(options.sqs ?? {});
  const registry = options.registry ?? new Registry();
  const logger = options.logger ?? consoleLogger;

  let ops: SqsOps | undefined;
  const metrics = createSidecarMetrics(registry, () => (ops as SqsOps).depth());
  ops = new SqsOps(sqs, config.queueUrl, metrics, logger);
  const sqsOps = ops;
  const keeper = new VisibilityKeeper(sqsOps, config.visibilityTimeoutSeconds, logger);
  const rate = new RateLimiter(
    config.maxWriteRate,
    Math.max(1, Math.min(config.bulkSize, config.maxWriteRate)),
  );
  const concurrency = new ConcurrencyLimiter({
    max: config.maxInflightWrites,
    adaptive: config.adaptiveConcurrency,
    onChange: (limit) => {
      metrics.concurrencyLimit.set(limit);
      logger.info({ limit }, "write concurrency limit changed");
    },
  });
  metrics.rateLimit.set(config.maxWriteRate);
  metrics.concurrencyLimit.set(concurrency.limit);

  // Records in hand at most: the buffer cap, and no more than half a visibility timeout of
  // writing at the rate cap, so that what is received can be written before it reappears.
  const bufferLimit = Math.max(
    1,
    Math.min(
      config.maxBufferedRecords,
      config.maxWriteRate > 0
        ? Math.floor((config.maxWriteRate * config.visibilityTimeoutSeconds) / 2)
        : Number.POSITIVE_INFINITY,
    ),
  );

  const abort = new AbortController();
  const wakeup = new Wakeup();
  const db = mongo.db(config.database);
  const records: Collection = db.collection(config.collection);
  const quarantined: Collection = db.collection(config.quarantineCollection);
  let started = false;
  let bootstrapped = false;
  let sqsOk = false;
  let mongoOk = false;
  let stopping: Promise<void> | undefined;
  let loops: Promise<void>[] = [];
  const inflight = new Set<Promise<void>>();
  let pending: PendingDoc[] = [];
  let pendingSince = 0;
  let inHandRecords = 0;
  let writeFailures = 0;
  let probing = false;

  function updateReady(): void {
    metrics.ready.set(isReady() ? 1 : 0);
  }

  function isReady(): boolean {
    return bootstrapped && sqsOk && mongoOk && stopping === undefined;
  }

  function setMongo(ok: boolean): void {
    if (ok !== mongoOk)
      logger.info({ reachable: ok }, ok ? "MongoDB reachable" : "MongoDB unreachable");
    mongoOk = ok;
    updateReady();
    wakeup.notify();
  }

  function adjustInHand(delta: number): void {
    inHandRecords += delta;
    metrics.recordsInHand.set(inHandRecords);
    if (delta < 0) wakeup.notify();
  }

  async function bootstrap(): Promise<void> {
    for (let attempt = 1; !abort.signal.aborted; attempt++) {
      try {
        if (ownsMongo) await mongo.connect();
        await ensureIndexes(records, config.indexes, config.retentionDays, logger);
        setMongo(true);
        if ((await sqsOps.depth()) === undefined) throw new Error("SQS queue not reachable");
        sqsOk = true;
        bootstrapped = true;
        updateReady();
        wakeup.notify();
        logger.info({ queueUrl: config.queueUrl, pollers: config.pollers }, "sidecar ready");
        return;
      } catch (err) {
        metrics.errors.inc({ stage: "bootstrap" });
        const delay = backoffDelay(attempt, RETRY);
        logger.warn({ err, retryInMs: delay }, "cannot start yet; retrying");
        await sleep(delay, abort.signal);
      }
    }
  }

  /** MongoDB failed: probe it with capped, jittered backoff until it answers. */
  async function recoverMongo(): Promise<void> {
    if (probing) return;
    probing = true;
    try {
      while (!abort.signal.aborted) {
        await sleep(backoffDelay(writeFailures, RETRY), abort.signal);
        if (abort.signal.aborted) return;
        try {
          await db.command({ ping: 1 });
          setMongo(true);
          return;
        } catch (err) {
          writeFailures++;
          logger.warn({ err }, "MongoDB still unreachable");
        }
      }
    } finally {
      probing = false;
    }
  }

  async function handle(messages: Message[]): Promise<void> {
    metrics.messagesReceived.inc(messages.length);
    const undecodable: QuarantineEntry[] = [];
    const undecodableMessages: Message[] = [];
    const empty: Message[] = [];
    for (const message of messages) {
      const messageId = message.MessageId ?? "";
      const receiveCount = Number(message.Attributes?.ApproximateReceiveCount ?? 1);
      let docs: Document[];
      try {
        docs = withDeterministicIds(await decodeMessage(message), message.MessageId);
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        logger.error(
          { messageId, format: message.MessageAttributes?.[ATTR_FORMAT]?.StringValue, reason },
          "cannot decode SQS message; quarantining it",
        );
        undecodable.push({
          kind: "message",
          messageId,
          receiveCount,
          raw: message.Body ?? "",
          attributes: Object.fromEntries(
            Object.entries(message.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue]),
          ),
          error: { message: reason },
        });
        undecodableMessages.push(message);
        continue;
      }
      if (docs.length === 0) {
        empty.push(message);
        continue;
      }
      const owner: InHand = {
        message,
        messageId,
        receiveCount,
        pending: docs.length,
        failed: false,
        extendedAt: Date.now(),
      };
      keeper.add(owner);
      if (pending.length === 0) pendingSince = Date.now();
      for (const [index, doc] of docs.entries()) pending.push({ doc, owner, index });
      adjustInHand(docs.length);
    }
    if (undecodable.length > 0) {
      try {
        await quarantine(quarantined, undecodable, config.writeConcern);
        metrics.messagesQuarantined.inc(undecodable.length);
        empty.push(...undecodableMessages);
      } catch (err) {
        // Not stored anywhere: leave the messages on the queue, they come back.
        metrics.errors.inc({ stage: "quarantine" });
        logger.warn(
          { err, messages: undecodable.length },
          "cannot quarantine; messages stay queued",
        );
      }
    }
    if (empty.length > 0) metrics.messagesDeleted.inc(await sqsOps.deleteMessages(empty));
    wakeup.notify();
  }

  async function writerLoop(): Promise<void> {
    const signal = abort.signal;
    while (!signal.aborted) {
      if (pending.length === 0) {
        await wakeup.wait(signal);
        continue;
      }
      const age = Date.now() - pendingSince;
      if (pending.length < config.bulkSize && age < config.bulkWaitMs) {
        await wakeup.wait(signal, config.bulkWaitMs - age);
        continue;
      }
      if (!mongoOk) {
        await wakeup.wait(signal);
        continue;
      }
      if (!(await concurrency.acquire(signal))) return;
      const bulk = pending.slice(0, config.bulkSize);
      if (!(await rate.take(bulk.length, signal))) {
        concurrency.cancel();
        return;
      }
      // Taken only now: while waiting for tokens, the bulk stayed in `pending` for stop().
      pending = pending.slice(bulk.length);
      if (pending.length > 0) pendingSince = Date.now();
      const write = writeBulk(bulk).finally(() => inflight.delete(write));
      inflight.add(write);
    }
  }

  async function writeBulk(bulk: PendingDoc[]): Promise<void> {
    metrics.bulkSize.observe(bulk.length);
    metrics.writesInflight.inc();
    const started = performance.now();
    let outcomes: Awaited<ReturnType<typeof insertRecords>>;
    try {
      outcomes = await insertRecords(
        records,
        bulk.map((p) => p.doc),
        config.writeConcern,
      );
    } catch (err) {
      // Unknown outcome: delete nothing. SQS redelivers and the duplicate _id makes it harmless.
      metrics.writesInflight.dec();
      concurrency.release(undefined);
      metrics.errors.inc({ stage: "write" });
      writeFailures++;
      logger.warn(
        { err, records: bulk.length },
        "MongoDB write failed; its messages will be redelivered",
      );
      for (const p of bulk) p.owner.failed = true;
      setMongo(false);
      void recoverMongo();
      await settle(bulk);
      return;
    }
    const latencyMs = performance.now() - started;
    metrics.writesInflight.dec();
    concurrency.release(latencyMs);
    metrics.writeSeconds.observe(latencyMs / 1000);
    metrics.lastWrite.setToCurrentTime();
    writeFailures = 0;
    if (!mongoOk) setMongo(true);

    const now = Date.now();
    const refused: QuarantineEntry[] = [];
    const refusedOwners: InHand[] = [];
    for (const [i, outcome] of outcomes.entries()) {
      const p = bulk[i] as PendingDoc;
      if (outcome.kind === "written") {
        metrics.recordsWritten.inc();
        if (p.doc.ts instanceof Date) metrics.lagSeconds.observe((now - p.doc.ts.getTime()) / 1000);
      } else if (outcome.kind === "duplicate") {
        metrics.recordsDuplicate.inc();
      } else {
        logger.warn(
          {
            code: outcome.code,
            reason: outcome.message,
            messageId: p.owner.messageId,
            index: p.index,
          },
          "MongoDB refused a record; quarantining it",
        );
        refused.push({
          kind: "record",
          messageId: p.owner.messageId,
          index: p.index,
          receiveCount: p.owner.receiveCount,
          raw: recordText(p.doc),
          error: { code: outcome.code, message: outcome.message },
        });
        refusedOwners.push(p.owner);
      }
    }
    if (refused.length > 0) {
      try {
        await quarantine(quarantined, refused, config.writeConcern);
        metrics.recordsQuarantined.inc(refused.length);
      } catch (err) {
        metrics.errors.inc({ stage: "quarantine" });
        logger.warn({ err, records: refused.length }, "cannot quarantine; messages stay queued");
        for (const owner of refusedOwners) owner.failed = true;
      }
    }
    await settle(bulk);
  }

  /** Counts the bulk's records as settled; deletes or releases messages with none left. */
  async function settle(bulk: PendingDoc[]): Promise<void> {
    const done = new Set<InHand>();
    for (const p of bulk) {
      p.owner.pending--;
      if (p.owner.pending === 0) done.add(p.owner);
    }
    adjustInHand(-bulk.length);
    const toDelete: InHand[] = [];
    const toRelease: InHand[] = [];
    for (const owner of done) {
      keeper.remove(owner);
      (owner.failed ? toRelease : toDelete).push(owner);
    }
    if (toDelete.length > 0) {
      metrics.messagesDeleted.inc(await sqsOps.deleteMessages(toDelete.map((h) => h.message)));
    }
    if (toRelease.length > 0) {
      // Back soon, but not at once: the pollers wait for MongoDB anyway.
      const delay =
        stopping === undefined
          ? Math.min(30, Math.ceil(backoffDelay(writeFailures, RETRY) / 1000))
          : 0;
      metrics.messagesReleased.inc(await keeper.release(toRelease, delay));
    }
  }

  /** Resolves with `promise`'s value, or "timeout" after `ms`. */
  async function within<T>(promise: Promise<T>, ms: number): Promise<T | "timeout"> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), ms);
    });
    try {
      return await Promise.race([promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function shutdown(): Promise<void> {
    abort.abort();
    wakeup.notify();
    updateReady();
    // Most of the budget for the writes in flight, the rest for releasing what is left.
    const releaseMs = Math.min(2_000, config.shutdownTimeoutMs / 2);
    const drainMs = config.shutdownTimeoutMs - releaseMs;
    try {
      const drained = (async () => {
        await Promise.all(loops);
        await Promise.all([...inflight]);
      })();
      if ((await within(drained, drainMs)) === "timeout") {
        logger.warn(
          { deadlineMs: drainMs },
          "writes did not finish in time; releasing their messages",
        );
      }
      // Everything still held (not written, or written past the deadline) goes back to the queue.
      const held = keeper.all();
      pending = [];
      if (held.length > 0) {
        const released = await within(keeper.release(held, 0), releaseMs);
        if (released !== "timeout") metrics.messagesReleased.inc(released);
        logger.info({ released, held: held.length }, "released messages in hand");
      }
    } finally {
      await keeper.stop();
      if (ownsMongo) {
        try {
          await mongo.close(true);
        } catch (err) {
          logger.warn({ err }, "closing the MongoDB client failed");
        }
      }
      if (ownsSqs) sqs.destroy();
      logger.info({}, "sidecar stopped");
    }
  }

  return {
    registry,
    async start() {
      if (stopping) throw new ConfigError("a stopped sidecar cannot be started again");
      if (started) return;
      started = true;
      keeper.start();
      const pollers = Array.from({ length: config.pollers }, () =>
        pollLoop({
          signal: abort.signal,
          retry: RETRY,
          canReceive: () => bootstrapped && mongoOk && inHandRecords < bufferLimit,
          waitForChange: (signal) => wakeup.wait(signal),
          receive: (signal) =>
            sqsOps.receive(
              SQS_MAX_RECEIVE_MESSAGES,
              config.waitTimeSeconds,
              config.visibilityTimeoutSeconds,
              signal,
            ),
          handle,
          onReceiveResult: (err, retryInMs) => {
            if (err === undefined) {
              if (!sqsOk) logger.info({}, "SQS reachable");
              sqsOk = true;
            } else {
              sqsOk = false;
              metrics.errors.inc({ stage: "receive" });
              logger.warn({ err, retryInMs }, "ReceiveMessage failed");
            }
            updateReady();
          },
        }),
      );
      loops = [bootstrap(), writerLoop(), ...pollers];
      logger.info({ queueUrl: config.queueUrl, pollers: config.pollers }, "sidecar started");
    },
    stop() {
      stopping ??= shutdown();
      return stopping;
    },
    isReady,
  };
}

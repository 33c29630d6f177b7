// A discrete-event simulation of the bulk writer's loop against a model database, in virtual
// time, driving the real ConcurrencyLimiter: no timers, no sleeps, the same result every run.
import { ConcurrencyLimiter } from "../../../../sidecar/write/concurrency-limiter.js";
import { prng } from "../../../helpers/prng.js";

export interface Database {
  /** A write sent at `now`: when its answer is back, and whether it succeeded. */
  submit(now: number): { answeredAt: number; ok: boolean };
}

/**
 * A database that takes one bulk at a time (FerretDB on SQLite): writes queue at it, FIFO; each
 * takes `serviceMs(now)` (with ±10 % jitter) once it is its turn; `networkMs` each way. Its
 * throughput is flat whatever the concurrency, as long as it is never left idle; only one write
 * in flight leaves it idle for a network round trip between writes. A write whose answer would
 * come after `deadlineMs` fails at the deadline (the database works on it until then).
 */
export function serializingDatabase(o: {
  serviceMs: (now: number) => number;
  networkMs: number;
  deadlineMs?: number;
  seed?: number;
}): Database {
  const rand = prng(o.seed ?? 1);
  let freeAt = 0;
  return {
    submit(now) {
      const start = Math.max(now + o.networkMs, freeAt);
      freeAt = start + o.serviceMs(now) * (0.9 + 0.2 * rand());
      const answeredAt = freeAt + o.networkMs;
      const deadline = o.deadlineMs ?? Number.POSITIVE_INFINITY;
      if (answeredAt - now <= deadline) return { answeredAt, ok: true };
      // The driver gives up and closes the connection; the database drops the write then.
      freeAt = Math.max(start, now + deadline - o.networkMs);
      return { answeredAt: now + deadline, ok: false };
    },
  };
}

export interface Supply {
  /** Bulks that become ready to write at `at` (the receive loop's batches). */
  next(): { at: number; bulks: number };
}

/** A backlog: every bulk is ready from the start. */
export function backlog(): Supply {
  let first = true;
  return {
    next() {
      const at = first ? 0 : Number.POSITIVE_INFINITY;
      first = false;
      return { at, bulks: Number.POSITIVE_INFINITY };
    },
  };
}

/** Batches of `bulks` ready every `everyMs` ± 20 %: the writer is sometimes short of work. */
export function batches(bulks: number, everyMs: number, seed = 2): Supply {
  const rand = prng(seed);
  let at = 0;
  return {
    next() {
      at += everyMs * (0.8 + 0.4 * rand());
      return { at, bulks };
    },
  };
}

export interface Run {
  /** Virtual ms from the first write to the last answer. */
  elapsedMs: number;
  /** Every limit the limiter changed to, in order, with when. */
  changes: { at: number; limit: number }[];
  /** The limit when each write was started. */
  limitAtStart: number[];
  limiter: ConcurrencyLimiter;
}

/** Writes `writes` bulks as the bulk writer does: one per free slot while bulks are ready. */
export function simulate(
  db: Database,
  supply: Supply,
  writes: number,
  options: { max?: number; adaptive?: boolean } = {},
): Run {
  const changes: Run["changes"] = [];
  let now = 0;
  const limiter = new ConcurrencyLimiter({
    max: options.max ?? 4,
    adaptive: options.adaptive ?? true,
    onChange: (limit) => changes.push({ at: now, limit }),
  });
  const inflight: { sentAt: number; answeredAt: number; ok: boolean }[] = [];
  const limitAtStart: number[] = [];
  let ready = 0;
  let arrival = supply.next();
  let started = 0;
  let answered = 0;
  while (answered < writes) {
    while (arrival.at <= now) {
      ready += arrival.bulks;
      arrival = supply.next();
    }
    while (started < writes && ready > 0 && limiter.running < limiter.limit) {
      void limiter.acquire(); // a free slot is granted synchronously
      limitAtStart.push(limiter.limit);
      inflight.push({ sentAt: now, ...db.submit(now) });
      ready--;
      started++;
    }
    inflight.sort((a, b) => a.answeredAt - b.answeredAt);
    const first = inflight[0];
    if (first === undefined || (ready === 0 && arrival.at < first.answeredAt)) {
      now = arrival.at;
      continue;
    }
    inflight.shift();
    now = first.answeredAt;
    limiter.done(first.ok ? now - first.sentAt : undefined);
    answered++;
  }
  return { elapsedMs: now, changes, limitAtStart, limiter };
}

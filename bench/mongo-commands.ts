// Where a bench leg's time goes outside its own process: its MongoDB round trips, from the
// driver's command monitoring (how many of each kind, how long from send to reply, queueing in
// the server included), and the CPU the local services used.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CommandStartedEvent, CommandSucceededEvent, MongoClient } from "mongodb";

export interface CommandTally {
  count: number;
  /** Send to reply, summed over the calls (they overlap when several are in flight). */
  ms: number;
  /** Documents sent (`documents` of an insert, `updates` of an update). */
  docs: number;
}

/** `insert records`, `update streams`, …: the command and the kind of collection it names. */
function kindOf(event: CommandStartedEvent): string {
  const target = event.command[event.commandName];
  const name = typeof target === "string" ? target : "";
  const collection = name.endsWith("_digests")
    ? "digests"
    : name.endsWith("_streams")
      ? "streams"
      : /^(sidecar|bare)_/.test(name)
        ? "records"
        : name || "-";
  return `${event.commandName} ${collection}`;
}

/**
 * Counts `client`'s commands by kind until the returned function is called (it returns the
 * tallies and stops counting). The client must be made with `monitorCommands: true`.
 */
export function tallyCommands(client: MongoClient): () => Map<string, CommandTally> {
  const started = new Map<number, string>();
  const tallies = new Map<string, CommandTally>();
  const onStart = (e: CommandStartedEvent) => {
    const kind = kindOf(e);
    started.set(e.requestId, kind);
    const docs = e.command.documents ?? e.command.updates;
    const t = tallies.get(kind) ?? { count: 0, ms: 0, docs: 0 };
    t.count++;
    t.docs += Array.isArray(docs) ? docs.length : 0;
    tallies.set(kind, t);
  };
  const onDone = (e: CommandSucceededEvent) => {
    const kind = started.get(e.requestId);
    if (kind === undefined) return;
    started.delete(e.requestId);
    const t = tallies.get(kind);
    if (t) t.ms += e.duration;
  };
  client.on("commandStarted", onStart);
  client.on("commandSucceeded", onDone);
  return () => {
    client.off("commandStarted", onStart);
    client.off("commandSucceeded", onDone);
    return tallies;
  };
}

/** One line per kind, busiest first: `insert records 80× 12,345 ms 40,000 docs`. */
export function formatTallies(tallies: Map<string, CommandTally>): string {
  return [...tallies]
    .sort(([, a], [, b]) => b.ms - a.ms)
    .map(
      ([kind, t]) =>
        `${kind} ${t.count}× ${t.ms.toFixed(0)} ms${t.docs > 0 ? ` ${t.docs} docs` : ""}`,
    )
    .join("; ");
}

/**
 * CPU seconds (user + system) used so far by each local service that `scripts/services` started
 * (its pid files under `$AUDITQ_SERVICES_DIR/run`, default `.cache/services/run`); empty when
 * none is found, as with services started elsewhere.
 */
export function servicesCpu(): Map<string, number> {
  const dir = join(
    process.env.AUDITQ_SERVICES_DIR ??
      fileURLToPath(new URL("../.cache/services", import.meta.url)),
    "run",
  );
  const out = new Map<string, number>();
  for (const name of ["ferretdb", "elasticmq"]) {
    const pidFile = join(dir, `${name}.pid`);
    if (!existsSync(pidFile)) continue;
    const pid = readFileSync(pidFile, "utf8").trim();
    const statFile = `/proc/${pid}/stat`;
    if (!existsSync(statFile)) continue;
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    const stat = readFileSync(statFile, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    out.set(name, (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS);
  }
  return out;
}

/** The kernel's clock ticks per second (USER_HZ), 100 on Linux. */
const CLOCK_TICKS = 100;

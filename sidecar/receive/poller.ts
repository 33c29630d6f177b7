// One long-poll loop: receives only while there is room to write, backs off while SQS fails.
import type { Message } from "@aws-sdk/client-sqs";
import { type BackoffPolicy, backoffDelay } from "../../shared/util/backoff.js";
import { sleep } from "../../shared/util/timers.js";

export interface PollerDeps {
  signal: AbortSignal;
  /** Whether a receive may start now (room in the buffer, MongoDB reachable). */
  canReceive(): boolean;
  /** Resolves when canReceive() may have changed. */
  waitForChange(signal: AbortSignal): Promise<void>;
  receive(signal: AbortSignal): Promise<Message[]>;
  handle(messages: Message[]): Promise<void>;
  onReceiveResult(err: unknown, retryInMs: number): void;
  retry: BackoffPolicy;
}

/** Runs until `signal` aborts; the abort also interrupts a long poll in progress. */
export async function pollLoop(d: PollerDeps): Promise<void> {
  let failures = 0;
  while (!d.signal.aborted) {
    if (!d.canReceive()) {
      await d.waitForChange(d.signal);
      continue;
    }
    let messages: Message[];
    try {
      messages = await d.receive(d.signal);
      failures = 0;
      d.onReceiveResult(undefined, 0);
    } catch (err) {
      if (d.signal.aborted) break;
      failures++;
      const delay = backoffDelay(failures, d.retry);
      d.onReceiveResult(err, delay);
      await sleep(delay, d.signal);
      continue;
    }
    if (messages.length > 0) await d.handle(messages);
  }
}

// How many long polls are open at once: one while the queue is light, all while it is not.
// Every poller polls while receives come back full.
//
// A long poll returns as soon as any message is there. With two polls always open, each
// SendMessageBatch of a light producer (one call per lingerMs, a few messages) is split
// between both: two billed receives where one would do, and twice the empty polls while idle.
// A backlog shows as full receives (10 messages); only then do the other pollers join.
import { SQS_MAX_RECEIVE_MESSAGES } from "../../shared/wire/sqs-limits.js";

export class PollDemand {
  private backlog = false;

  /** `onBacklog` wakes the waiting pollers when a backlog appears. */
  constructor(private readonly onBacklog: () => void) {}

  /** Whether poller `index` (the first is 0) may start a receive now. */
  allows(index: number): boolean {
    return index === 0 || this.backlog;
  }

  /** Takes note of how many messages a receive returned. */
  received(count: number): void {
    const backlog = count >= SQS_MAX_RECEIVE_MESSAGES;
    const appeared = backlog && !this.backlog;
    this.backlog = backlog;
    if (appeared) this.onBacklog();
  }
}

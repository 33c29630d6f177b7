// Keeps received messages hidden while they are being written (heartbeat), and releases them.
import type { Logger } from "../../shared/util/logger.js";
import type { HeldMessage } from "../receive/held-message.js";
import type { SqsOps } from "../receive/sqs-ops.js";

/** Extends a held message's visibility once this fraction of the timeout has passed. */
const HEARTBEAT_FRACTION = 0.5;

export class VisibilityKeeper {
  private readonly held = new Set<HeldMessage>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;

  constructor(
    private readonly ops: SqsOps,
    private readonly timeoutSeconds: number,
    private readonly logger: Logger,
  ) {}

  add(h: HeldMessage): void {
    this.held.add(h);
  }

  remove(h: HeldMessage): void {
    this.held.delete(h);
  }

  /** Everything still held, for the release at shutdown. */
  all(): HeldMessage[] {
    return [...this.held];
  }

  start(): void {
    const every = Math.max(200, (this.timeoutSeconds * 1000 * HEARTBEAT_FRACTION) / 2);
    this.timer = setInterval(() => {
      this.ticking ??= this.tick().finally(() => {
        this.ticking = undefined;
      });
    }, every);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.ticking;
  }

  /** Extends every held message whose visibility has run for HEARTBEAT_FRACTION of the timeout. */
  async tick(now = Date.now()): Promise<void> {
    const due = [...this.held].filter(
      (h) => now - h.extendedAt >= this.timeoutSeconds * 1000 * HEARTBEAT_FRACTION,
    );
    if (due.length === 0) return;
    for (const h of due) h.extendedAt = now;
    const extended = await this.ops.changeVisibility(
      due.map((h) => h.message),
      this.timeoutSeconds,
    );
    this.logger.debug({ due: due.length, extended }, "extended visibility of messages in hand");
  }

  /** Makes `held` visible again after `delaySeconds` (0 = now) and stops tracking them. */
  async release(held: readonly HeldMessage[], delaySeconds: number): Promise<number> {
    for (const h of held) this.held.delete(h);
    if (held.length === 0) return 0;
    return this.ops.changeVisibility(
      held.map((h) => h.message),
      delaySeconds,
    );
  }
}

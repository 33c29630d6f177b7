// Bounds what the sidecar holds received and unwritten, in records and in decoded bytes.
import { MAX_DECODED_BODY_BYTES } from "../../shared/wire/body-codec.js";
import type { Config } from "../config/resolve.js";

/** Records and decoded bytes: held, asked for, or allowed. */
export interface HeldAmount {
  records: number;
  bytes: number;
}

/**
 * Decoded bytes held at most (besides one message held alone): two of the largest bodies
 * decoding allows. Records rarely come near it; it bounds memory when they are huge.
 */
const MAX_HELD_DECODED_BYTES = 2 * MAX_DECODED_BODY_BYTES;

/**
 * Records held at most: the buffer cap, and no more than half a visibility timeout of writing at
 * this sidecar's current rate, so that what is received can be written before it reappears.
 */
function maxHeldRecords(
  config: Pick<Config, "maxBufferedRecords" | "visibilityTimeoutSeconds">,
  ratePerSecond: number,
): number {
  const atRate =
    ratePerSecond > 0
      ? Math.floor((ratePerSecond * config.visibilityTimeoutSeconds) / 2)
      : Number.POSITIVE_INFINITY;
  return Math.max(1, Math.min(config.maxBufferedRecords, atRate));
}

/**
 * The held limits. The records limit is read at each check: it follows this sidecar's share of
 * the fleet budget (`ratePerSecond`, 0 = no limit).
 */
export function heldLimits(
  config: Pick<Config, "maxBufferedRecords" | "visibilityTimeoutSeconds">,
  ratePerSecond: () => number,
): HeldAmount {
  return {
    get records() {
      return maxHeldRecords(config, ratePerSecond());
    },
    bytes: MAX_HELD_DECODED_BYTES,
  };
}

/**
 * Whether a message of `add` may be held beside what is `held`. It fits when both stay within
 * `limits`, so that a receive of ten large messages cannot overshoot them; and always when
 * nothing is held, so that the sidecar never waits for room that cannot come (a message larger
 * than `maxBufferedRecords` on its own is refused before it gets here).
 */
export function fitsBesideHeld(held: HeldAmount, add: HeldAmount, limits: HeldAmount): boolean {
  if (held.records === 0 && held.bytes === 0) return true;
  return held.records + add.records <= limits.records && held.bytes + add.bytes <= limits.bytes;
}

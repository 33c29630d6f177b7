// Bounds what the sidecar holds received and unwritten, in records and in decoded bytes.

/** Records and decoded bytes: held, asked for, or allowed. */
export interface InHandAmount {
  records: number;
  bytes: number;
}

/**
 * Whether a message of `add` may be taken in beside what is `held`. It fits when both stay
 * within `limits`, so that a receive of ten large messages cannot overshoot them; and always when
 * nothing is held, so that the sidecar never waits for room that cannot come (a message larger
 * than `maxBufferedRecords` on its own is refused before it gets here).
 */
export function fitsInHand(held: InHandAmount, add: InHandAmount, limits: InHandAmount): boolean {
  if (held.records === 0 && held.bytes === 0) return true;
  return held.records + add.records <= limits.records && held.bytes + add.bytes <= limits.bytes;
}

/**
 * When a failed delivery is tried again: the schedule the Standard Webhooks
 * specification recommends — at once, then after 5 s, 5 min, 30 min, 2 h, 5 h,
 * 10 h and 10 h — 8 attempts spread over 27 h 35 min, so a receiver that is
 * down for a whole day still gets every event.
 */
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

export const RETRY_DELAYS_MS: readonly number[] = [
  5 * SECOND,
  5 * MINUTE,
  30 * MINUTE,
  2 * HOUR,
  5 * HOUR,
  10 * HOUR,
  10 * HOUR,
];

/** Delay before the next attempt after `attemptsMade` failed ones; null = give up. */
export function retryDelayMs(attemptsMade: number): number | null {
  return RETRY_DELAYS_MS[attemptsMade - 1] ?? null;
}

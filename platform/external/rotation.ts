/**
 * Whether a token with a `lifetime` is due for rotation, and with which grace
 * period — shared by the operator and any driver that rotates. Pure: the clock
 * is an argument.
 */
import { defaultRenewBefore, parseDuration, renewalTime } from './renewal.ts';

export type RotationPolicy = {
  lifetime: string;
  renewBefore?: string | undefined;
  gracePeriod?: string | undefined;
};

export type RotationPlan = {
  lifetimeMs: number;
  renewBeforeMs: number;
  /** When rotation is due; null when the token never expires. */
  renewalTime: Date | null;
  due: boolean;
  /** How long the previous value keeps verifying; capped at the platform's 30 days. */
  gracePeriodSeconds: number;
};

const MAX_GRACE_SECONDS = 30 * 24 * 3600;

export function rotationPlan(
  policy: RotationPolicy,
  expiresAt: string | null,
  now: Date,
): RotationPlan {
  const lifetimeMs = parseDuration(policy.lifetime);
  const renewBeforeMs = policy.renewBefore
    ? parseDuration(policy.renewBefore)
    : defaultRenewBefore(lifetimeMs);
  const at = renewalTime(expiresAt, renewBeforeMs);
  const graceMs = policy.gracePeriod ? parseDuration(policy.gracePeriod) : renewBeforeMs;
  return {
    lifetimeMs,
    renewBeforeMs,
    renewalTime: at,
    due: at !== null && at.getTime() <= now.getTime(),
    gracePeriodSeconds: Math.min(Math.ceil(graceMs / 1000), MAX_GRACE_SECONDS),
  };
}

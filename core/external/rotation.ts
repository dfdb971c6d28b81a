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

/**
 * The rules between the rotation fields, worded once: the operator's CRD
 * states them as CEL rules with these messages, the provider's `check` applies
 * them with `rotationProblems`.
 */
export const RotationRules = {
  oneExpiry: 'set at most one of expiresAt (a fixed expiry) and lifetime (rotated automatically)',
  renewNeedsLifetime: 'renewBefore needs lifetime: only a token with a lifetime is rotated',
  lifetimeTooShort: 'lifetime must be at least 10s',
  renewNotShorter:
    'renewBefore must be shorter than lifetime, or the token would be rotated all the time',
} as const;

const MIN_LIFETIME_MS = 10_000;

export type RotationFields = {
  expiresAt?: string | null | undefined;
  lifetime?: string | undefined;
  renewBefore?: string | undefined;
};

/** What breaks `RotationRules` in well-formed durations, per field (empty when nothing does). */
export function rotationProblems(fields: RotationFields): { path: string; message: string }[] {
  const { expiresAt, lifetime, renewBefore } = fields;
  const problems: { path: string; message: string }[] = [];
  if (lifetime === undefined) {
    if (renewBefore !== undefined)
      problems.push({ path: 'renewBefore', message: RotationRules.renewNeedsLifetime });
    return problems;
  }
  if (expiresAt !== undefined)
    problems.push({ path: 'lifetime', message: RotationRules.oneExpiry });
  const lifetimeMs = parseDuration(lifetime);
  if (lifetimeMs < MIN_LIFETIME_MS)
    problems.push({ path: 'lifetime', message: RotationRules.lifetimeTooShort });
  if (renewBefore !== undefined && parseDuration(renewBefore) >= lifetimeMs)
    problems.push({ path: 'renewBefore', message: RotationRules.renewNotShorter });
  return problems;
}

/**
 * One reading of a failed platform call for both drivers: the operator turns it
 * into a condition reason and an Event, the provider into an error message.
 * Messages come from the platform's problem `detail` (already actionable and
 * secret-free) or from fixed text here; never from request data.
 */
import { TokenplaneConnectionError, TokenplaneError } from '../client/index.ts';
import { type Reason, Reasons } from './reasons.ts';

export type Failure = {
  reason: Reason;
  message: string;
  /** Worth retrying without a spec change (outage, or room may appear later). */
  retryable: boolean;
};

/** Problem slug (SPEC §2) → reason. */
const BY_SLUG: Record<string, { reason: Reason; retryable: boolean }> = {
  'quota-exceeded': { reason: Reasons.QuotaExceeded, retryable: true },
  'tier-ceiling': { reason: Reasons.TierCeilingExceeded, retryable: true },
  'scope-above-tier': { reason: Reasons.ScopeAboveTier, retryable: true },
  'has-children': { reason: Reasons.HasChildren, retryable: true },
  'not-found': { reason: Reasons.NotFound, retryable: true },
  validation: { reason: Reasons.InvalidSpec, retryable: false },
  unauthorized: { reason: Reasons.Unauthorized, retryable: true },
  forbidden: { reason: Reasons.Forbidden, retryable: true },
  'precondition-failed': { reason: Reasons.Conflict, retryable: true },
  'idempotency-conflict': { reason: Reasons.Conflict, retryable: false },
  'idempotency-gone': { reason: Reasons.Conflict, retryable: false },
  'rate-limited': { reason: Reasons.PlatformUnavailable, retryable: true },
  internal: { reason: Reasons.PlatformError, retryable: true },
};

export function describeFailure(err: unknown): Failure {
  if (err instanceof TokenplaneError) {
    const known = BY_SLUG[err.slug] ?? { reason: Reasons.PlatformError, retryable: true };
    return { ...known, message: err.detail ?? err.title };
  }
  if (err instanceof TokenplaneConnectionError) {
    return {
      reason: Reasons.PlatformUnavailable,
      message:
        'The tokenplane platform could not be reached; check the endpoint and that it is up.',
      retryable: true,
    };
  }
  const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return { reason: Reasons.PlatformError, message: `Unexpected error: ${detail}`, retryable: true };
}

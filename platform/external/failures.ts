/**
 * One reading of a failed platform call for both drivers: the operator turns it
 * into a condition reason and an Event, the provider into an error message.
 * Messages come from the platform's problem `detail` (already actionable and
 * secret-free) or from fixed text here; never from request data.
 */
import { TokenplaneConnectionError, TokenplaneError } from '../client/index.ts';

export const FailureReasons = {
  QuotaExceeded: 'QuotaExceeded',
  TierCeilingExceeded: 'TierCeilingExceeded',
  HasChildren: 'HasChildren',
  NotFound: 'NotFound',
  InvalidSpec: 'InvalidSpec',
  Unauthorized: 'Unauthorized',
  Forbidden: 'Forbidden',
  Conflict: 'Conflict',
  PlatformUnavailable: 'PlatformUnavailable',
  PlatformError: 'PlatformError',
} as const;
export type FailureReason = keyof typeof FailureReasons;

export type Failure = {
  reason: FailureReason;
  message: string;
  /** Worth retrying without a spec change (outage, or room may appear later). */
  retryable: boolean;
};

const BY_SLUG: Record<string, { reason: FailureReason; retryable: boolean }> = {
  'quota-exceeded': { reason: 'QuotaExceeded', retryable: true },
  'tier-ceiling': { reason: 'TierCeilingExceeded', retryable: true },
  'has-children': { reason: 'HasChildren', retryable: true },
  'not-found': { reason: 'NotFound', retryable: true },
  validation: { reason: 'InvalidSpec', retryable: false },
  unauthorized: { reason: 'Unauthorized', retryable: true },
  forbidden: { reason: 'Forbidden', retryable: true },
  'precondition-failed': { reason: 'Conflict', retryable: true },
  'idempotency-conflict': { reason: 'Conflict', retryable: false },
  'idempotency-gone': { reason: 'Conflict', retryable: false },
  'rate-limited': { reason: 'PlatformUnavailable', retryable: true },
  internal: { reason: 'PlatformError', retryable: true },
};

export function describeFailure(err: unknown): Failure {
  if (err instanceof TokenplaneError) {
    const known = BY_SLUG[err.slug] ?? { reason: 'PlatformError', retryable: true };
    return { ...known, message: err.detail ?? err.title };
  }
  if (err instanceof TokenplaneConnectionError) {
    return {
      reason: 'PlatformUnavailable',
      message:
        'The tokenplane platform could not be reached; check the endpoint and that it is up.',
      retryable: true,
    };
  }
  const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return { reason: 'PlatformError', message: `Unexpected error: ${detail}`, retryable: true };
}

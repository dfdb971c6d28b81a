/**
 * One reading of a failed platform call for both drivers: the operator turns it
 * into a condition reason and an Event, the provider into an error message.
 * Messages come from the platform's problem `detail` (already actionable and
 * secret-free) or from fixed text here; never from request data.
 *
 * Every problem slug the platform answers with has its row (the table's type
 * says so), including those a driver never meets (the analytics refusals).
 */
import { TokenplaneConnectionError, TokenplaneError } from '../client/index.ts';
import type { ProblemSlug, TRANSPORT_PROBLEMS } from '../domain/problems.ts';
import { type Reason, Reasons } from './reasons.ts';

export type Failure = {
  reason: Reason;
  message: string;
  /** Worth retrying without a spec change (outage, or room may appear later). */
  retryable: boolean;
};

type Row = { reason: Reason; retryable: boolean; message?: (err: TokenplaneError) => string };

/**
 * A create whose idempotency key was used before, with another body: an earlier
 * create reached the platform, its answer was never recorded, and the
 * declaration changed since. Creating under a new key would issue twice.
 */
const createConflict = () =>
  'An earlier create of this declaration reached the platform, but its answer was never recorded ' +
  '(the operator or provider stopped, or the answer was lost), and the declaration has changed ' +
  'since. Nothing was created now, so that nothing is issued twice. Restore the declaration as it ' +
  'was: that create is then answered again, and later changes apply in place. Or declare anew, ' +
  'adopting the object that create made by its id (tokenId, externalId; the platform lists it ' +
  'under the earlier name).';

/** A replay refused because part of what it made is gone (not the object itself: createOrGone handles that). */
const replayGone = (err: TokenplaneError) => {
  const { gone, id, entityId } = err.problem;
  const what = typeof gone === 'string' && typeof id === 'string' ? `${gone} ${id}` : 'object';
  const still =
    typeof entityId === 'string' ? ` Entity ${entityId} was created by it and still exists.` : '';
  return (
    `An earlier request of this declaration was carried out, but the ${what} it made is gone or ` +
    `holds another value since, so its answer cannot be given again.${still} Nothing was issued ` +
    'now, so that nothing is issued twice. Adopt what exists by id (externalId, tokenId), or ' +
    'remove it on the platform: a new one is then created.'
  );
};

/** Problem slug (README "Platform API", "Token permissions and limits", and the HTTP layer's own) → reason. */
const BY_SLUG: Record<ProblemSlug | keyof typeof TRANSPORT_PROBLEMS, Row> = {
  'quota-exceeded': { reason: Reasons.QuotaExceeded, retryable: true },
  'tier-ceiling': { reason: Reasons.TierCeilingExceeded, retryable: true },
  'scope-above-tier': { reason: Reasons.ScopeAboveTier, retryable: true },
  'has-children': { reason: Reasons.HasChildren, retryable: true },
  // Only a rotation (a new value) enables it again; the driver does not rotate on its own:
  // a person does, on the platform, and the next resync finds the token usable.
  'token-exposed': { reason: Reasons.TokenExposed, retryable: false },
  // Room appears as the earliest grace ends.
  'grace-limit': { reason: Reasons.Conflict, retryable: true },
  'not-found': { reason: Reasons.NotFound, retryable: true },
  validation: { reason: Reasons.InvalidSpec, retryable: false },
  unauthorized: { reason: Reasons.Unauthorized, retryable: true },
  forbidden: { reason: Reasons.Forbidden, retryable: true },
  'precondition-failed': { reason: Reasons.Conflict, retryable: true },
  'idempotency-conflict': {
    reason: Reasons.IdempotencyConflict,
    retryable: false,
    message: createConflict,
  },
  'idempotency-gone': { reason: Reasons.IdempotencyGone, retryable: false, message: replayGone },
  'rate-limited': { reason: Reasons.PlatformUnavailable, retryable: true },
  internal: { reason: Reasons.PlatformError, retryable: true },
  unavailable: { reason: Reasons.PlatformUnavailable, retryable: true },
  'request-timeout': { reason: Reasons.PlatformUnavailable, retryable: true },
  // Answers to analytics requests (a token's own refusals), never to a driver's calls.
  'tier-insufficient': { reason: Reasons.Forbidden, retryable: false },
  'scope-insufficient': { reason: Reasons.Forbidden, retryable: false },
  'origin-not-allowed': { reason: Reasons.Forbidden, retryable: false },
  'ip-not-allowed': { reason: Reasons.Forbidden, retryable: false },
  'signature-invalid': { reason: Reasons.Unauthorized, retryable: false },
  'usage-exceeded': { reason: Reasons.PlatformUnavailable, retryable: true },
  // The HTTP layer refusing a request this client built: a version mismatch or a bug.
  'bad-request': { reason: Reasons.PlatformError, retryable: false },
  'method-not-allowed': { reason: Reasons.PlatformError, retryable: false },
  'payload-too-large': { reason: Reasons.InvalidSpec, retryable: false },
  'uri-too-long': { reason: Reasons.PlatformError, retryable: false },
  'unsupported-media-type': { reason: Reasons.PlatformError, retryable: false },
  'header-fields-too-large': { reason: Reasons.PlatformError, retryable: false },
};

export function describeFailure(err: unknown): Failure {
  if (err instanceof TokenplaneError) {
    const known: Row = BY_SLUG[err.slug as keyof typeof BY_SLUG] ?? {
      reason: Reasons.PlatformError,
      retryable: true,
    };
    const message = known.message?.(err) ?? err.detail ?? err.title;
    return { reason: known.reason, retryable: known.retryable, message };
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

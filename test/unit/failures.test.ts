// The drivers' one reading of platform failures (core/external/failures.ts):
// every slug the platform answers with has a reason (none falls through to
// PlatformError by accident), and the two idempotency refusals say what
// happened and what a person can do, without issuing anything again.
import { describe, expect, it } from 'vitest';
import { errorFromResponse } from '../../core/client/index.ts';
import { PROBLEMS, problemType, TRANSPORT_PROBLEMS } from '../../core/domain/problems.ts';
import { describeFailure, Reasons } from '../../core/external/index.ts';

const failure = (slug: string, status: number, extensions: Record<string, unknown> = {}) =>
  describeFailure(
    errorFromResponse({
      status,
      problem: {
        type: problemType(slug as never),
        title: slug,
        status,
        detail: 'd',
        ...extensions,
      },
      method: 'POST',
      path: '/v1/entities',
    }),
  );

describe('describeFailure', () => {
  it('reads every problem slug (the table is total by type), and an unknown one as PlatformError', () => {
    for (const [slug, { status }] of Object.entries({ ...PROBLEMS, ...TRANSPORT_PROBLEMS })) {
      expect(Object.values(Reasons), slug).toContain(failure(slug, status).reason);
    }
    expect(failure('scope-above-tier', 409).reason).toBe(Reasons.ScopeAboveTier);
    expect(failure('signature-invalid', 401)).toMatchObject({
      reason: Reasons.Unauthorized,
      retryable: false,
    });
    expect(failure('unavailable', 503)).toMatchObject({
      reason: Reasons.PlatformUnavailable,
      retryable: true,
    });
    expect(failure('something-new', 418).reason).toBe(Reasons.PlatformError);
  });

  it('a token disabled by a leak report waits for a person to rotate it; a full grace list for room', () => {
    // Not retried with backoff: only a rotation on the platform changes it (the resync finds it).
    expect(failure('token-exposed', 409)).toMatchObject({
      reason: Reasons.TokenExposed,
      retryable: false,
      message: 'd',
    });
    expect(failure('grace-limit', 409)).toMatchObject({
      reason: Reasons.Conflict,
      retryable: true,
    });
  });

  it('a changed declaration after a lost create is refused for good, with what to do', () => {
    const f = failure('idempotency-conflict', 422);
    expect(f).toMatchObject({ reason: Reasons.IdempotencyConflict, retryable: false });
    expect(f.message).toContain('Nothing was created now');
    expect(f.message).toContain('Restore the declaration as it was');
  });

  it('a replay whose result is partly gone names what still exists', () => {
    const f = failure('idempotency-gone', 410, { id: 't1', gone: 'token', entityId: 'e1' });
    expect(f).toMatchObject({ reason: Reasons.IdempotencyGone, retryable: false });
    expect(f.message).toContain('token t1');
    expect(f.message).toContain('Entity e1 was created by it and still exists');
  });
});

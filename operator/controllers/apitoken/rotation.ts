/**
 * Rotation, as the executor tells it: when the token's renewal time has passed
 * (cert-manager's `renewBefore`), a new value under the same id, the previous
 * one verifying for the grace period, and a new expiry `lifetime` from now.
 * The idempotency key names the uid, the issuance and the rotation count, so a
 * crash between the rotation and the status write replays the same rotation
 * (TokenExternal.rotatePlanned).
 *
 * When that replay is refused because the token was rotated again since,
 * outside Kubernetes, the rotation counts as done and the next one runs under
 * the next key: one extra rotation, never a new token.
 * Owns status.lastRotationTime and the pass's rotatedUntil.
 */
import type { TokenHooks } from '../../../platform/external/index.ts';
import { EventReasons } from '../../events.ts';
import type { Context } from '../context.ts';
import type { Pass } from './pass.ts';

export function rotationHooks(
  ctx: Context,
  pass: Pass,
): Pick<TokenHooks, 'rotated' | 'superseded'> {
  const { obj } = pass;
  return {
    superseded(plan, rotation) {
      ctx.events.warning(
        obj,
        EventReasons.RotationSuperseded,
        `Platform token ${plan.token.id} was rotated outside Kubernetes after rotation ${rotation}, ` +
          'whose value no longer verifies; rotating again under the next rotation count.',
      );
    },
    rotated(plan) {
      const now = ctx.now();
      if (plan.gracePeriodSeconds > 0) {
        pass.rotatedUntil = new Date(now.getTime() + plan.gracePeriodSeconds * 1000);
      }
      pass.status = { ...pass.status, lastRotationTime: now.toISOString() };
      ctx.events.normal(
        obj,
        EventReasons.Rotated,
        `Rotated platform token ${plan.token.id}; the previous value keeps verifying for ${plan.gracePeriodSeconds}s.`,
      );
    },
  };
}

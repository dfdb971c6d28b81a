/**
 * Rotation: when the token's renewal time has passed (cert-manager's
 * `renewBefore`), a new value under the same id, the previous one verifying for
 * the grace period, and a new expiry `lifetime` from now. The idempotency key
 * names the uid, the issuance and the rotation count, so a crash between the
 * rotation and the status write replays the same rotation (TokenExternal.rotatePlanned).
 *
 * When that replay is refused because the token was rotated again since,
 * outside Kubernetes, the rotation counts as done (rotatePlanned answers null)
 * and the next one runs under the next key: one extra rotation, never a new token.
 * Owns status.rotations and lastRotationTime.
 */
import { planToken } from '../../../platform/external/index.ts';
import { EventReasons } from '../../events.ts';
import { type Context, checkTime } from '../context.ts';
import type { Pass } from './pass.ts';

/** The superseded rotation, then the next one: never more rotations than this in a pass. */
const MAX_ROTATIONS = 2;

export async function rotate(ctx: Context, pass: Pass): Promise<void> {
  const { obj, declaration, policy, token } = pass;
  if (!declaration.rotation || !token) return;
  for (let i = 0; i < MAX_ROTATIONS; i++) {
    checkTime(ctx);
    const plan = planToken(declaration, { held: { token, origin: pass.origin } }, policy);
    if (plan.action !== 'rotate') return;
    const rotated = await ctx.tokens.rotatePlanned(plan);
    policy.rotations++;
    pass.status = { ...pass.status, rotations: policy.rotations };
    if (!rotated) {
      ctx.events.warning(
        obj,
        EventReasons.RotationSuperseded,
        `Platform token ${token.id} was rotated outside Kubernetes after rotation ${policy.rotations - 1}, ` +
          'whose value no longer verifies; rotating again under the next rotation count.',
      );
      continue;
    }
    pass.value = rotated.value;
    if (plan.gracePeriodSeconds > 0) {
      pass.rotatedUntil = new Date(ctx.now().getTime() + plan.gracePeriodSeconds * 1000);
    }
    pass.token = rotated.token;
    pass.status = { ...pass.status, lastRotationTime: ctx.now().toISOString() };
    const next = planToken(
      declaration,
      { held: { token: pass.token, origin: pass.origin } },
      policy,
    );
    pass.renewalTime = next.action === 'none' ? next.renewalTime : null;
    ctx.events.normal(
      obj,
      EventReasons.Rotated,
      `Rotated platform token ${token.id}; the previous value keeps verifying for ${plan.gracePeriodSeconds}s.`,
    );
    return;
  }
}

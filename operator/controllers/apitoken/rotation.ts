/**
 * Rotation: when the token's renewal time has passed (cert-manager's
 * `renewBefore`), a new value under the same id, the previous one verifying for
 * the grace period, and a new expiry `lifetime` from now. The idempotency key
 * names the uid, the issuance and the rotation count, so a crash between the
 * rotation and the status write replays the same rotation.
 * Owns status.rotations and lastRotationTime.
 */
import { planToken } from '../../../platform/external/index.ts';
import { EventReasons } from '../../events.ts';
import { type Context, checkTime } from '../context.ts';
import type { Pass } from './pass.ts';

export async function rotate(ctx: Context, pass: Pass): Promise<void> {
  const { obj, declaration, policy, token } = pass;
  if (!declaration.rotation || !token) return;
  checkTime(ctx);
  const plan = planToken(declaration, { held: { token, origin: pass.origin } }, policy);
  if (plan.action !== 'rotate') return;
  const rotated = await ctx.tokens.rotate(token.id, plan.gracePeriodSeconds, plan.idempotencyKey);
  pass.value = rotated.value;
  if (plan.gracePeriodSeconds > 0) {
    pass.rotatedUntil = new Date(ctx.now().getTime() + plan.gracePeriodSeconds * 1000);
  }
  pass.token = await ctx.tokens.update(token.id, [
    { field: 'expiresAt', from: rotated.expiresAt, to: plan.expiresAt, action: 'update' },
  ]);
  policy.rotations++;
  pass.status = {
    ...pass.status,
    rotations: policy.rotations,
    lastRotationTime: ctx.now().toISOString(),
  };
  const next = planToken(declaration, { held: { token: pass.token, origin: pass.origin } }, policy);
  pass.renewalTime = next.action === 'none' ? next.renewalTime : null;
  ctx.events.normal(
    obj,
    EventReasons.Rotated,
    `Rotated platform token ${token.id}; the previous value keeps verifying for ${plan.gracePeriodSeconds}s.`,
  );
}

/**
 * Rotation: when the token's renewal time has passed (cert-manager's
 * `renewBefore`), a new value under the same id, the previous one verifying for
 * the grace period, and a new expiry `lifetime` from now. The idempotency key
 * names the uid, the issuance and the rotation count, so a crash between the
 * rotation and the status write replays the same rotation (TokenExternal.rotatePlanned).
 *
 * When that replay is refused (410 idempotency-gone: the token was rotated
 * again since, outside Kubernetes, so the value of our rotation is dead), the
 * rotation counts as done and the next one runs under the next key: one extra
 * rotation, never a new token.
 * Owns status.rotations and lastRotationTime.
 */
import { IdempotencyGoneError } from '../../../platform/client/index.ts';
import { planToken, type RotateAction } from '../../../platform/external/index.ts';
import type { Token } from '../../../platform/schemas/index.ts';
import { EventReasons } from '../../events.ts';
import { type Context, checkTime } from '../context.ts';
import type { Pass } from './pass.ts';

export async function rotate(ctx: Context, pass: Pass): Promise<void> {
  const { obj, declaration, policy, token } = pass;
  if (!declaration.rotation || !token) return;
  checkTime(ctx);
  let plan = planToken(declaration, { held: { token, origin: pass.origin } }, policy);
  if (plan.action !== 'rotate') return;
  let rotated = await rotateOrSuperseded(ctx, pass, plan);
  if (!rotated) {
    plan = planToken(declaration, { held: { token, origin: pass.origin } }, policy);
    if (plan.action !== 'rotate') return;
    rotated = await ctx.tokens.rotatePlanned(plan);
  }
  pass.value = rotated.value;
  if (plan.gracePeriodSeconds > 0) {
    pass.rotatedUntil = new Date(ctx.now().getTime() + plan.gracePeriodSeconds * 1000);
  }
  pass.token = rotated.token;
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

/**
 * The rotation under `key`; null when the platform refuses to replay it because
 * the token was rotated again since — the rotation count then moves on.
 */
async function rotateOrSuperseded(
  ctx: Context,
  pass: Pass,
  plan: RotateAction,
): Promise<{ token: Token; value: string } | null> {
  const { token } = plan;
  try {
    return await ctx.tokens.rotatePlanned(plan);
  } catch (err) {
    if (!(err instanceof IdempotencyGoneError) || err.problem.gone !== 'token') throw err;
  }
  ctx.events.warning(
    pass.obj,
    EventReasons.RotationSuperseded,
    `Platform token ${token.id} was rotated outside Kubernetes after rotation ${pass.policy.rotations}, ` +
      'whose value no longer verifies; rotating again under the next rotation count.',
  );
  pass.policy.rotations++;
  pass.status = { ...pass.status, rotations: pass.policy.rotations };
  return null;
}

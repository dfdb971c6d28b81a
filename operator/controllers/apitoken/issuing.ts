/**
 * Issuing: the ApiToken holds a platform token that matches its spec, rotated
 * when due. The executor (platform/external/executor.ts) carries out the
 * planner's actions — create (idempotency key from the uid and the issuance),
 * adopt (`tokenId`, `adoptDefaultToken`), update in place (drift on the
 * platform is repaired), rotate — until the planner has nothing left, or
 * refuses; the hooks here and in rotation.ts turn them into Events and the
 * status draft. Owns status.tokenId, entityId, issuance and rotations.
 */
import { describeChanges, settleToken, type TokenHooks } from '../../../platform/external/index.ts';
import { EventReasons } from '../../events.ts';
import type { Result } from '../../runtime/workqueue.ts';
import { type Context, checkTime, refused } from '../context.ts';
import { type Pass, PLURAL } from './pass.ts';
import { rotationHooks } from './rotation.ts';

/** Undefined when the pass holds its token; otherwise how the reconcile ends. */
export async function issue(ctx: Context, pass: Pass): Promise<Result | undefined> {
  const { obj, declaration, policy, entityTier } = pass;
  checkTime(ctx);
  const outcome = await settleToken(
    {
      tokens: ctx.tokens,
      declaration,
      policy,
      sight: {
        heldId: obj.status?.tokenId,
        // A platform-only entity's tier is the platform's to judge (the same refusal, one request later).
        tier: entityTier ? { name: entityTier, table: ctx.tiers } : undefined,
      },
    },
    { ...issuingHooks(ctx, pass), ...rotationHooks(ctx, pass) },
  );
  if ('refused' in outcome) return refused(ctx, PLURAL, obj, outcome.refused);
  const { token, origin, value, issuance, rotations, renewalTime } = outcome.settled;
  Object.assign(pass, { token, origin, value, renewalTime });
  pass.status = {
    ...pass.status,
    tokenId: token.id,
    entityId: token.entityId,
    issuance: issuance || undefined,
    rotations: rotations || undefined,
  };
  return undefined;
}

function issuingHooks(ctx: Context, pass: Pass): TokenHooks {
  const { obj } = pass;
  return {
    round: () => checkTime(ctx),
    creating(plan) {
      if (!plan.replacing) return;
      ctx.events.warning(
        obj,
        EventReasons.TokenMissing,
        `Platform token ${plan.replacing} was removed outside Kubernetes; issuing a replacement.`,
      );
    },
    created(token, plan) {
      ctx.events.normal(
        obj,
        EventReasons.Created,
        `Created platform token ${token.id} (${token.hint})` +
          (plan.noDefault ? '; the entity had no `default` token to adopt.' : '.'),
      );
    },
    adopted(plan) {
      ctx.events.normal(
        obj,
        EventReasons.Adopted,
        plan.source === 'default'
          ? `Adopted the entity's default token ${plan.token.id}.`
          : `Adopted platform token ${plan.token.id}.`,
      );
    },
    updated(token, plan, origin) {
      const repaired =
        origin === 'recorded' && obj.status?.observedGeneration === obj.metadata.generation;
      ctx.events.normal(
        obj,
        repaired ? EventReasons.Repaired : EventReasons.Updated,
        `${repaired ? 'Repaired drift on' : 'Updated'} platform token ${token.id}: ${describeChanges(plan.changes)}.`,
      );
    },
  };
}

/**
 * The issuing stage: the ApiToken holds a platform token that matches its
 * spec, rotated when due. The executor (core/external/executor.ts) carries
 * out the planner's actions — create (idempotency key from the uid and the
 * issuance), adopt (`tokenId`, `adoptDefaultToken`), update in place (drift on
 * the platform is repaired), rotate — until the planner has nothing left, or
 * refuses; the hooks here turn them into Events.
 *
 * Rotation: when the token's renewal time has passed (cert-manager's
 * `renewBefore`), a new value under the same id, the previous one verifying
 * for the grace period, and a new expiry `lifetime` from now. The idempotency
 * key names the uid, the issuance and the rotation count, so a crash between
 * the rotation and the status write replays the same rotation
 * (TokenExternal.rotatePlanned). When that replay is refused because the token
 * was rotated again since, outside Kubernetes, the rotation counts as done and
 * the next one runs under the next key: one extra rotation, never a new token.
 */
import {
  describeChanges,
  type Refusal,
  type SettledToken,
  settleToken,
  type TokenHooks,
} from '../../../core/external/index.ts';
import type { ApiTokenObject, ApiTokenStatus } from '../../crds/schemas.ts';
import { EventReasons } from '../../events.ts';
import { type Context, checkTime, replacementHooks } from '../context.ts';
import type { Declared } from './declaration.ts';

export type Issued = Pick<SettledToken, 'token' | 'origin' | 'value' | 'renewalTime'> & {
  /** Set by a rotation of this reconcile: when the replaced value stops verifying. */
  rotatedUntil: Date | undefined;
  /** The status fields this stage owns. */
  status: Pick<
    ApiTokenStatus,
    'tokenId' | 'entityId' | 'issuance' | 'rotations' | 'lastRotationTime'
  >;
};

/** A rotation of this reconcile, as its hook saw it. */
type Rotation = { until?: Date; time?: string };

export async function issue(
  ctx: Context,
  obj: ApiTokenObject,
  { declaration, entityTier }: Declared,
): Promise<Issued | { refused: Refusal }> {
  checkTime(ctx);
  const rotation: Rotation = {};
  const outcome = await settleToken(
    {
      tokens: ctx.tokens,
      declaration,
      ledger: {
        identity: `apitoken:${obj.metadata.uid}`,
        issuance: obj.status?.issuance ?? 0,
        rotations: obj.status?.rotations ?? 0,
        now: ctx.now(),
      },
      sight: {
        heldId: obj.status?.tokenId,
        // A platform-only entity's tier is the platform's to judge (the same refusal, one request later).
        tier: entityTier ? { name: entityTier, table: ctx.tiers } : undefined,
      },
    },
    hooks(ctx, obj, rotation),
  );
  if ('refused' in outcome) return outcome;
  const { token, origin, value, issuance, rotations, renewalTime } = outcome.settled;
  return {
    token,
    origin,
    value,
    renewalTime,
    rotatedUntil: rotation.until,
    status: {
      tokenId: token.id,
      entityId: token.entityId,
      issuance: issuance || undefined,
      rotations: rotations || undefined,
      ...(rotation.time ? { lastRotationTime: rotation.time } : {}),
    },
  };
}

function hooks(ctx: Context, obj: ApiTokenObject, rotation: Rotation): TokenHooks {
  return {
    ...replacementHooks(
      ctx,
      obj,
      EventReasons.TokenMissing,
      (id) => `Platform token ${id} was removed outside Kubernetes; issuing a replacement.`,
    ),
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
    superseded(plan, count) {
      ctx.events.warning(
        obj,
        EventReasons.RotationSuperseded,
        `Platform token ${plan.token.id} was rotated outside Kubernetes after rotation ${count}, ` +
          'whose value no longer verifies; rotating again under the next rotation count.',
      );
    },
    rotated(plan) {
      const now = ctx.now();
      if (plan.gracePeriodSeconds > 0) {
        rotation.until = new Date(now.getTime() + plan.gracePeriodSeconds * 1000);
      }
      rotation.time = now.toISOString();
      ctx.events.normal(
        obj,
        EventReasons.Rotated,
        `Rotated platform token ${plan.token.id}; the previous value keeps verifying for ${plan.gracePeriodSeconds}s.`,
      );
    },
  };
}

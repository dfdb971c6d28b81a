/**
 * Issuing: the ApiToken holds a platform token that matches its spec. Observes
 * the platform, then carries out the planner's actions — create (idempotency
 * key from the uid and the issuance), adopt (`tokenId`, `adoptDefaultToken`),
 * update in place (drift on the platform is repaired) — until the planner has
 * nothing left for it, or refuses. Rotation is the next step's concern.
 * Owns status.tokenId, entityId and issuance.
 */
import {
  createOrGone,
  describeChanges,
  planToken,
  type TokenFacts,
} from '../../../platform/external/index.ts';
import { EventReasons } from '../../events.ts';
import type { Result } from '../../runtime/workqueue.ts';
import { type Context, checkTime, refused } from '../context.ts';
import { type Pass, PLURAL } from './pass.ts';

/** create or adopt, then update: never more than this many actions in one pass. */
const MAX_ACTIONS = 3;

/** Undefined when the pass holds its token; otherwise how the reconcile ends. */
export async function issue(ctx: Context, pass: Pass): Promise<Result | undefined> {
  const { obj, declaration, policy } = pass;
  checkTime(ctx);
  const facts = await ctx.tokens.facts(declaration, obj.status?.tokenId, policy.issuance);
  // The planner judges scopes against the Entity's tier; a platform-only entity's
  // tier is the platform's to judge (the same refusal, one request later).
  const tier = obj.spec.entityRef
    ? ctx.entityCache.get(obj.spec.entityRef.name, obj.metadata.namespace)?.status?.tier
    : undefined;
  if (tier) facts.tier = { name: tier, table: await ctx.tiers() };
  for (let i = 0; i < MAX_ACTIONS; i++) {
    checkTime(ctx);
    const plan = planToken(declaration, facts, policy);
    switch (plan.action) {
      case 'none':
      case 'rotate':
        pass.token = plan.token;
        pass.renewalTime = plan.action === 'none' ? plan.renewalTime : null;
        pass.status = {
          ...pass.status,
          tokenId: plan.token.id,
          entityId: plan.token.entityId,
          issuance: policy.issuance || undefined,
        };
        return undefined;
      case 'refuse':
      case 'replace':
        return refused(ctx, PLURAL, obj, plan);
      case 'create':
        await create(ctx, pass, facts, plan);
        break;
      case 'adopt':
        ctx.events.normal(
          obj,
          EventReasons.Adopted,
          plan.source === 'default'
            ? `Adopted the entity's default token ${plan.token.id}.`
            : `Adopted platform token ${plan.token.id}.`,
        );
        pass.origin = 'adopted';
        facts.held = { token: plan.token, origin: 'adopted' };
        break;
      case 'update': {
        const token = await ctx.tokens.update(plan.token.id, plan.changes);
        const repaired =
          pass.origin === 'recorded' && obj.status?.observedGeneration === obj.metadata.generation;
        ctx.events.normal(
          obj,
          repaired ? EventReasons.Repaired : EventReasons.Updated,
          `${repaired ? 'Repaired drift on' : 'Updated'} platform token ${token.id}: ${describeChanges(plan.changes)}.`,
        );
        facts.held = { token, origin: pass.origin };
        break;
      }
    }
  }
  throw new Error('the token planner did not settle; retrying');
}

async function create(
  ctx: Context,
  pass: Pass,
  facts: TokenFacts,
  plan: { idempotencyKey: string; issuance: number; replacing?: string; noDefault?: boolean },
): Promise<void> {
  const { obj, declaration, policy } = pass;
  if (plan.replacing)
    ctx.events.warning(
      obj,
      EventReasons.TokenMissing,
      `Platform token ${plan.replacing} was removed outside Kubernetes; issuing a replacement.`,
    );
  // Same uid and issuance → same key → a retry after a crash gets the first token back.
  const made = await createOrGone(ctx.tokens, declaration.desired, plan.idempotencyKey, 'token');
  policy.issuance = plan.issuance;
  if ('gone' in made) {
    facts.held = made;
    return;
  }
  const { value, ...token } = made.created;
  ctx.events.normal(
    obj,
    EventReasons.Created,
    `Created platform token ${token.id} (${token.hint})` +
      (plan.noDefault ? '; the entity had no `default` token to adopt.' : '.'),
  );
  pass.value = value;
  pass.origin = 'created';
  facts.held = { token, origin: 'created' };
}

/**
 * Entity reconciler — Crossplane's order: deleting → finalizer → parent ready →
 * observe → the planner's actions (create / adopt / update, or a refusal) until
 * it has nothing left to do → status, poll again after `resyncMs`. Refusals
 * become `Ready=False` with the planner's (or the platform's) reason and
 * actionable message, plus a Warning Event.
 */
import {
  createOrGone,
  type DesiredEntity,
  describeChanges,
  type EntityDeclaration,
  type EntityFacts,
  type ParentFacts,
  planEntity,
  Reasons,
} from '../../platform/external/index.ts';
import type { Entity } from '../../platform/schemas/index.ts';
import type { EntityObject, EntityStatus } from '../crds/schemas.ts';
import { EventReasons } from '../events.ts';
import { FINALIZER } from '../kube.ts';
import { isReady, outcome } from '../runtime/conditions.ts';
import type { Result } from '../runtime/workqueue.ts';
import {
  type Context,
  cached,
  checkTime,
  drive,
  lower,
  refused,
  release,
  removeFinalizer,
  waiting,
  writeStatus,
} from './context.ts';

const PLURAL = 'entities';
/** create/adopt, then update: never more than this many actions in one pass. */
const MAX_ACTIONS = 3;

export async function reconcileEntity(
  ctx: Context,
  namespace: string,
  name: string,
): Promise<Result> {
  const obj = cached(ctx.entityCache, namespace, name);
  if (!obj) return {};
  return drive(ctx, PLURAL, obj, { finalize, sync });
}

async function sync(ctx: Context, obj: EntityObject): Promise<Result> {
  const { spec } = obj;
  const parent = resolveParent(ctx, obj);
  if ('wait' in parent) return waiting(ctx, PLURAL, obj, Reasons.ParentNotReady, parent.wait);
  const declaration: EntityDeclaration = {
    desired: {
      name: spec.displayName ?? obj.metadata.name,
      kind: lower(spec.kind) as DesiredEntity['kind'],
      tier: lower(spec.tier),
      parentId: parent.id,
      defaultToken: spec.defaultToken,
    },
    externalId: spec.externalId,
  };
  const facts: EntityFacts = {
    tiers: await ctx.tiers(),
    parent: parent.facts,
    ...(await ctx.entities.facts(obj.status?.id, spec.externalId)),
  };
  const identity = `entity:${obj.metadata.uid}`;

  let actual: Entity | undefined;
  for (let i = 0; i < MAX_ACTIONS && !actual; i++) {
    checkTime(ctx);
    const plan = planEntity(declaration, facts, identity);
    switch (plan.action) {
      case 'refuse':
      case 'replace':
        return refused(ctx, PLURAL, obj, plan);
      case 'create': {
        if (plan.replacing)
          ctx.events.warning(
            obj,
            EventReasons.Repairing,
            `Platform entity ${plan.replacing} is gone; creating a new one.`,
          );
        // The key names the object and the entity it replaces, so a retry after a
        // crash returns the first result instead of creating a second entity.
        const made = await createOrGone(
          ctx.entities,
          declaration.desired,
          plan.idempotencyKey,
          'entity',
        );
        if ('gone' in made) {
          facts.held = made;
          break;
        }
        const created = made.created;
        ctx.events.normal(
          obj,
          EventReasons.Created,
          `Created platform entity ${created.id} (tier ${created.tier}).`,
        );
        facts.held = { entity: created };
        break;
      }
      case 'adopt':
        ctx.events.normal(obj, EventReasons.Adopted, `Adopted platform entity ${plan.entity.id}.`);
        facts.held = { entity: plan.entity };
        break;
      case 'update': {
        const updated = await ctx.entities.update(plan.entity.id, plan.changes);
        ctx.events.normal(
          obj,
          EventReasons.Updated,
          `Updated platform entity: ${describeChanges(plan.changes)}.`,
        );
        facts.held = { entity: updated };
        break;
      }
      case 'none':
        actual = plan.entity;
        break;
    }
  }
  if (!actual) throw new Error('the entity planner did not settle; retrying');

  const defaultToken = await ctx.tokens.findDefault(actual.id, obj.status?.defaultTokenId);
  const status: EntityStatus = {
    id: actual.id,
    tier: actual.tier,
    tokenQuota: actual.tokenQuota,
    tokenCount: actual.tokenCount,
    defaultTokenId: defaultToken?.id,
    observedGeneration: obj.metadata.generation,
    conditions: outcome(obj.status?.conditions, obj.metadata.generation, { ok: true }, ctx.now()),
  };
  await writeStatus(ctx, PLURAL, obj, status);
  return { requeueAfterMs: ctx.resyncMs };
}

type Parent = { id: string | null; facts?: ParentFacts } | { wait: string };

/**
 * The parent from the informer's cache (`parentRef`), or a platform id the
 * platform itself will judge (`parentId`).
 */
function resolveParent(ctx: Context, obj: EntityObject): Parent {
  const ref = obj.spec.parentRef;
  if (!ref) return { id: obj.spec.parentId ?? null };
  const parent = ctx.entityCache.get(ref.name, obj.metadata.namespace);
  if (!parent)
    return {
      wait: `Waiting for parent Entity "${ref.name}", which does not exist in this namespace.`,
    };
  if (!isReady(parent) || !parent.status?.id) {
    return { wait: `Waiting for parent Entity "${ref.name}" to become Ready.` };
  }
  return {
    id: parent.status.id,
    facts: {
      name: ref.name,
      tier: parent.status.tier ?? lower(parent.spec.tier),
      kind: lower(parent.spec.kind) as ParentFacts['kind'],
    },
  };
}

async function finalize(ctx: Context, obj: EntityObject): Promise<Result> {
  if (!obj.metadata.finalizers?.includes(FINALIZER)) return {};
  await release(ctx, obj, obj.status?.id, {
    name: 'entity',
    removed: 'Deleted',
    remove: (id) => ctx.entities.delete(id),
  });
  await removeFinalizer(ctx, PLURAL, obj, FINALIZER);
  return {};
}

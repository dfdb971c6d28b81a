/**
 * Entity reconciler — Crossplane's order: deleting → finalizer → parent ready →
 * the executor (core/external/executor.ts) observes and carries out the
 * planner's actions (create / adopt / update, or a refusal) until it has
 * nothing left to do → status, poll again after `resyncMs`. Refusals
 * become `Ready=False` with the planner's (or the platform's) reason and
 * actionable message, plus a Warning Event.
 */
import {
  type DesiredEntity,
  describeChanges,
  type EntityHooks,
  type ParentFacts,
  Reasons,
  settleEntity,
} from '../../core/external/index.ts';
import type { EntityObject, EntityStatus } from '../crds/schemas.ts';
import { EventReasons } from '../events.ts';
import { FINALIZER } from '../kube.ts';
import { isReady, outcome } from '../runtime/conditions.ts';
import type { Result } from '../runtime/workqueue.ts';
import {
  type Context,
  cached,
  drive,
  forget,
  lower,
  refused,
  release,
  replacementHooks,
  setFinalizer,
  waiting,
  writeStatus,
} from './context.ts';

const PLURAL = 'entities';

export async function reconcileEntity(
  ctx: Context,
  namespace: string,
  name: string,
): Promise<Result> {
  const obj = cached(ctx.entityCache, namespace, name);
  if (!obj) {
    forget(ctx, PLURAL, namespace, name);
    return {};
  }
  return drive(ctx, PLURAL, obj, { finalize, sync });
}

async function sync(ctx: Context, obj: EntityObject): Promise<Result> {
  const { spec } = obj;
  const parent = resolveParent(ctx, obj);
  if ('wait' in parent) return waiting(ctx, PLURAL, obj, Reasons.ParentNotReady, parent.wait);
  const run = await settleEntity(
    {
      entities: ctx.entities,
      declaration: {
        desired: {
          name: spec.displayName ?? obj.metadata.name,
          kind: lower(spec.kind) as DesiredEntity['kind'],
          tier: lower(spec.tier),
          parentId: parent.id,
          defaultToken: spec.defaultToken,
        },
        externalId: spec.externalId,
      },
      identity: `entity:${obj.metadata.uid}`,
      // A parent known only by its platform id is the platform's to judge.
      sight: { tiers: ctx.tiers, heldId: obj.status?.id, parent: parent.facts },
    },
    hooks(ctx, obj),
  );
  if ('refused' in run) return refused(ctx, PLURAL, obj, run.refused);
  const actual = run.settled;
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

/** The executor's actions as Events. */
function hooks(ctx: Context, obj: EntityObject): EntityHooks {
  return {
    ...replacementHooks(
      ctx,
      obj,
      EventReasons.Repairing,
      (id) => `Platform entity ${id} is gone; creating a new one.`,
    ),
    created(entity) {
      ctx.events.normal(
        obj,
        EventReasons.Created,
        `Created platform entity ${entity.id} (tier ${entity.tier}).`,
      );
    },
    adopted(plan) {
      ctx.events.normal(obj, EventReasons.Adopted, `Adopted platform entity ${plan.entity.id}.`);
    },
    updated(_entity, plan) {
      ctx.events.normal(
        obj,
        EventReasons.Updated,
        `Updated platform entity: ${describeChanges(plan.changes)}.`,
      );
    },
  };
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
  await setFinalizer(ctx, PLURAL, obj, false);
  return {};
}

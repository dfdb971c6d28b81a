/**
 * Entity reconciler — Crossplane's order: deleting → finalizer → parent ready
 * and within its ceiling → observe → create / adopt → update → status, poll
 * again after `resyncMs`. Platform refusals become `Ready=False` with the
 * failure's reason and the platform's actionable message, plus an Event.
 */
import { checkCeiling } from '../../platform/domain/index.ts';
import {
  type DesiredEntity,
  describeChanges,
  needsReplace,
} from '../../platform/external/index.ts';
import type { Entity } from '../../platform/schemas/index.ts';
import type { EntityObject, EntityStatus } from '../crds/schemas.ts';
import { FINALIZER } from '../kube.ts';
import { isReady, outcome, Reasons } from '../runtime/conditions.ts';
import type { Result } from '../runtime/workqueue.ts';
import { type Context, drive, lower, notReady, removeFinalizer, writeStatus } from './context.ts';

const PLURAL = 'entities';
/** How soon to look again while waiting on another object that may not notify us. */
const WAIT_MS = 30_000;

export async function reconcileEntity(
  ctx: Context,
  namespace: string,
  name: string,
): Promise<Result> {
  const obj = await ctx.kube.get<EntityObject>(PLURAL, namespace, name);
  if (!obj) return {};
  return drive(ctx, PLURAL, obj, { finalize, sync });
}

async function sync(ctx: Context, obj: EntityObject): Promise<Result> {
  const { spec } = obj;
  const parent = resolveParent(ctx, obj);
  if ('wait' in parent)
    return notReady(ctx, PLURAL, obj, Reasons.ParentNotReady, parent.wait, {
      requeueAfterMs: WAIT_MS,
    });
  if (parent.tier) {
    const violation = checkCeiling(
      ctx.tiers,
      lower(spec.tier),
      parent.tier,
      `parent Entity "${spec.parentRef?.name}"`,
    );
    if (violation) {
      ctx.events.record(obj, 'Warning', Reasons.TierCeilingExceeded, violation.detail);
      // The parent's update enqueues us again; the poll is a safety net.
      return notReady(ctx, PLURAL, obj, Reasons.TierCeilingExceeded, violation.detail, {
        requeueAfterMs: WAIT_MS * 4,
      });
    }
  }
  const desired: DesiredEntity = {
    name: spec.displayName ?? obj.metadata.name,
    kind: lower(spec.kind) as DesiredEntity['kind'],
    tier: lower(spec.tier),
    parentId: parent.id,
    defaultToken: spec.defaultToken,
  };

  let actual: Entity;
  const id = obj.status?.id ?? spec.externalId;
  const observed = id ? await ctx.entities.observe(id, desired) : { exists: false as const };
  if (!observed.exists) {
    if (id && !obj.status?.id) {
      const message = `No platform entity has id ${id} (spec.externalId). Check the id, or remove externalId to create a new entity.`;
      ctx.events.record(obj, 'Warning', Reasons.NotFound, message);
      return notReady(ctx, PLURAL, obj, Reasons.NotFound, message, { error: new Error(message) });
    }
    if (id)
      ctx.events.record(
        obj,
        'Warning',
        'Repairing',
        `Platform entity ${id} is gone; creating a new one.`,
      );
    // The key names the object and the entity it replaces, so a retry after a
    // crash returns the first result instead of creating a second entity.
    const created = await ctx.entities.create(
      desired,
      `entity:${obj.metadata.uid}:${id ?? 'first'}`,
    );
    actual = created;
    ctx.events.record(
      obj,
      'Normal',
      'Created',
      `Created platform entity ${created.id} (tier ${created.tier}).`,
    );
  } else if (needsReplace(observed.changes)) {
    const message =
      `The platform entity differs in fields that cannot change in place (${describeChanges(observed.changes)}). ` +
      'Fix the spec, or delete and recreate the Entity.';
    ctx.events.record(obj, 'Warning', Reasons.NeedsReplace, message);
    return notReady(ctx, PLURAL, obj, Reasons.NeedsReplace, message, {
      requeueAfterMs: ctx.resyncMs,
    });
  } else if (!observed.upToDate) {
    actual = await ctx.entities.update(observed.actual.id, observed.changes);
    ctx.events.record(
      obj,
      'Normal',
      'Updated',
      `Updated platform entity: ${describeChanges(observed.changes)}.`,
    );
  } else {
    actual = observed.actual;
    if (!obj.status?.id)
      ctx.events.record(obj, 'Normal', 'Adopted', `Adopted platform entity ${actual.id}.`);
  }

  const defaultToken = await ctx.tokens.findDefault(actual.id);
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

type Parent = { id: string | null; tier?: string } | { wait: string };

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
  return { id: parent.status.id, tier: parent.status.tier ?? lower(parent.spec.tier) };
}

async function finalize(ctx: Context, obj: EntityObject): Promise<Result> {
  if (!obj.metadata.finalizers?.includes(FINALIZER)) return {};
  const id = obj.status?.id;
  if (id && obj.spec.deletionPolicy === 'Delete') {
    await ctx.entities.delete(id);
    ctx.events.record(obj, 'Normal', 'Deleted', `Deleted platform entity ${id}.`);
  } else if (id) {
    ctx.events.record(
      obj,
      'Normal',
      'Orphaned',
      `Left platform entity ${id} in place (deletionPolicy: Orphan).`,
    );
  }
  await removeFinalizer(ctx, PLURAL, obj, FINALIZER);
  return {};
}

/**
 * ApiToken reconciler, after cert-manager's certificate controllers: one
 * concern per step, coordinating through the status they record (pass.ts).
 *   deleting → revoke (Delete) or leave (Orphan), drop the Secret, release;
 *   finalizer; entity resolved and Ready; the Secret is ours to write;
 *   issuing (rotation included) → Secret delivery → readiness (one status write).
 * The object is read from the informer's cache. Token values live only in
 * local variables and the Secret: never in logs, Events, conditions or errors.
 */
import { Reasons } from '../../../platform/external/index.ts';
import type { ApiTokenObject } from '../../crds/schemas.ts';
import { FINALIZER } from '../../kube.ts';
import { isReady } from '../../runtime/conditions.ts';
import type { Result } from '../../runtime/workqueue.ts';
import { type Context, cached, drive, release, removeFinalizer, waiting } from '../context.ts';
import { secretNameOf } from '../secret.ts';
import { entityOf } from '../triggers.ts';
import { deliver, observeSecret, removeSecret } from './delivery.ts';
import { issue } from './issuing.ts';
import { PLURAL, startPass } from './pass.ts';
import { ready } from './readiness.ts';

export async function reconcileApiToken(
  ctx: Context,
  namespace: string,
  name: string,
): Promise<Result> {
  const obj = cached(ctx.tokenCache, namespace, name);
  if (!obj) {
    ctx.metrics.tokenExpiry.remove({ namespace, name });
    return {};
  }
  return drive(ctx, PLURAL, obj, { finalize, sync });
}

async function sync(ctx: Context, obj: ApiTokenObject): Promise<Result> {
  const entity = resolveEntity(ctx, obj);
  if ('wait' in entity) return waiting(ctx, PLURAL, obj, Reasons.EntityNotReady, entity.wait);
  // Never take over a Secret that belongs to someone else (two writers loop forever).
  const secret = await observeSecret(ctx, obj);
  if ('conflict' in secret) {
    ctx.events.warning(obj, Reasons.SecretConflict, secret.conflict);
    // Our Secret informer does not see someone else's Secret go: look again soon.
    return waiting(ctx, PLURAL, obj, Reasons.SecretConflict, secret.conflict);
  }
  const pass = startPass(ctx, obj, entity);
  const refused = await issue(ctx, pass);
  if (refused) return refused;
  await deliver(ctx, pass, secret.secret);
  return ready(ctx, pass);
}

/** The entity's platform id, and its tier when the cache knows it; or why to wait. */
function resolveEntity(
  ctx: Context,
  obj: ApiTokenObject,
): { id: string; tier?: string | undefined } | { wait: string } {
  const ref = obj.spec.entityRef;
  if (!ref) return { id: obj.spec.entityId as string };
  const entity = ctx.entityCache.get(ref.name, obj.metadata.namespace);
  if (!entity)
    return { wait: `Waiting for Entity "${ref.name}", which does not exist in this namespace.` };
  if (!entity.status?.id)
    return { wait: `Waiting for Entity "${ref.name}" to be created on the platform.` };
  if (!isReady(entity) && !obj.status?.tokenId)
    return { wait: `Waiting for Entity "${ref.name}" to become Ready.` };
  return { id: entity.status.id, tier: entity.status.tier };
}

async function finalize(ctx: Context, obj: ApiTokenObject): Promise<Result> {
  if (!obj.metadata.finalizers?.includes(FINALIZER)) return {};
  const { namespace, name } = obj.metadata;
  await release(ctx, obj, obj.status?.tokenId, {
    name: 'token',
    removed: 'Revoked',
    remove: (id) => ctx.tokens.delete(id),
  });
  await removeSecret(ctx, obj, obj.status?.secretName ?? secretNameOf(obj));
  ctx.metrics.tokenExpiry.remove({ namespace, name });
  await removeFinalizer(ctx, PLURAL, obj, FINALIZER);
  if (obj.spec.entityRef) ctx.enqueueEntity(namespace, obj.spec.entityRef.name, 1000);
  // Room may have appeared for a sibling that was refused for quota (an index
  // look-up: deleting 10,000 ApiTokens must not scan 10,000 each time).
  const entity = entityOf(obj);
  for (const other of entity ? ctx.tokensOf(namespace, entity) : [])
    if (other !== name) ctx.enqueueToken(namespace, other);
  return {};
}

/**
 * ApiToken reconciler: deleting → revoke (Delete) or leave (Orphan), drop the
 * Secret, release; otherwise our finalizer, then a pipeline of stages, each a
 * function of the object and of what the stages before it returned (none
 * reaches into another's result or calls another):
 *   declarationOf (the entity resolved and Ready) → observeSecret (ours to
 *   write) → issue (rotation included) → deliver (the Secret) → ready (the one
 *   status write).
 * A stage may end the reconcile (wait, conflict, refusal) with a Ready=False
 * status. The object is read from the informer's cache. Token values live only
 * in local variables and the Secret: never in logs, Events, conditions or errors.
 */
import { Reasons } from '../../../core/external/index.ts';
import type { ApiTokenObject } from '../../crds/schemas.ts';
import { FINALIZER } from '../../kube.ts';
import type { Result } from '../../runtime/workqueue.ts';
import {
  type Context,
  cached,
  drive,
  forget,
  refused,
  release,
  setFinalizer,
  waiting,
} from '../context.ts';
import { secretNameOf } from '../secret.ts';
import { entityOf } from '../triggers.ts';
import { declarationOf } from './declaration.ts';
import { deliver, observeSecret, removeSecret } from './delivery.ts';
import { issue } from './issuing.ts';
import { ready } from './readiness.ts';

const PLURAL = 'apitokens';

export async function reconcileApiToken(
  ctx: Context,
  namespace: string,
  name: string,
): Promise<Result> {
  const obj = cached(ctx.tokenCache, namespace, name);
  if (!obj) {
    forget(ctx, PLURAL, namespace, name);
    return {};
  }
  return drive(ctx, PLURAL, obj, { finalize, sync: pipeline });
}

async function pipeline(ctx: Context, obj: ApiTokenObject): Promise<Result> {
  const declared = declarationOf(ctx, obj);
  if ('wait' in declared) return waiting(ctx, PLURAL, obj, Reasons.EntityNotReady, declared.wait);
  // Never take over a Secret that belongs to someone else (two writers loop forever).
  const secret = await observeSecret(ctx, obj);
  if ('conflict' in secret) {
    ctx.events.warning(obj, Reasons.SecretConflict, secret.conflict);
    // Our Secret informer does not see someone else's Secret go: look again soon.
    return waiting(ctx, PLURAL, obj, Reasons.SecretConflict, secret.conflict);
  }
  const issued = await issue(ctx, obj, declared);
  if ('refused' in issued) return refused(ctx, PLURAL, obj, issued.refused);
  const delivered = await deliver(ctx, obj, issued, secret.secret);
  return ready(ctx, obj, issued, delivered);
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
  await setFinalizer(ctx, PLURAL, obj, false);
  if (obj.spec.entityRef) ctx.enqueueEntity(namespace, obj.spec.entityRef.name, 1000);
  // Room may have appeared for a sibling that was refused for quota (an index
  // look-up: deleting 10,000 ApiTokens must not scan 10,000 each time).
  const entity = entityOf(obj);
  for (const other of entity ? ctx.tokensOf(namespace, entity) : [])
    if (other !== name) ctx.enqueueToken(namespace, other);
  return {};
}

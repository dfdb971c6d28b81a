/**
 * Secret delivery: the Secret named by the spec holds the current value (SPEC
 * §3 keys, owner reference, template labels and annotations); workloads listed
 * in `rolloutRestartTargets` are restarted when the value changes; the Secret of
 * a previous `secretName` goes. Our Secrets are read from the informer's cache —
 * live only when the cache has none, since someone else's Secret is not in it.
 * Owns status.secretName.
 */
import type { V1Secret } from '@kubernetes/client-node';
import type { ApiTokenObject } from '../../crds/schemas.ts';
import { EventReasons } from '../../events.ts';
import { type Context, checkTime, isKubeError } from '../context.ts';
import {
  DIGEST_ANNOTATION,
  desiredSecret,
  digest,
  secretConflict,
  secretNameOf,
  secretUpToDate,
} from '../secret.ts';
import type { Pass } from './pass.ts';

/**
 * The Secret as it is now, or why it must not be written (it belongs to
 * someone else). Read once per pass.
 */
export async function observeSecret(
  ctx: Context,
  obj: ApiTokenObject,
): Promise<{ secret: V1Secret | undefined } | { conflict: string }> {
  const secret = await readSecret(ctx, obj.metadata.namespace, secretNameOf(obj));
  const conflict = secretConflict(secret, obj);
  return conflict ? { conflict } : { secret };
}

export async function deliver(
  ctx: Context,
  pass: Pass,
  existing: V1Secret | undefined,
): Promise<void> {
  const { obj, token } = pass;
  if (!token) return;
  checkTime(ctx);
  const secretName = secretNameOf(obj);
  const content = {
    tokenId: token.id,
    entityId: token.entityId,
    endpoint: ctx.endpoint,
    hint: token.hint,
  };
  if (!secretUpToDate(existing, obj, content)) {
    const value = pass.value ?? (await ctx.tokens.reveal(token.id));
    await ctx.kube.applySecret(desiredSecret(obj, content, value));
    const previous = existing?.metadata?.annotations?.[DIGEST_ANNOTATION];
    if (previous && previous !== digest(value)) await restartTargets(ctx, obj, secretName);
    const { status } = obj;
    if (
      status?.secretName === secretName &&
      status.tokenId === token.id &&
      pass.origin === 'recorded'
    ) {
      const what = existing ? 'did not hold the current token' : 'was missing';
      ctx.events.normal(
        obj,
        EventReasons.SecretRestored,
        `Secret "${secretName}" ${what}; wrote it again.`,
      );
    }
  }
  const oldSecret = obj.status?.secretName;
  if (oldSecret && oldSecret !== secretName) await removeSecret(ctx, obj, oldSecret);
  pass.status = { ...pass.status, secretName };
}

/**
 * Removes a Secret this ApiToken owns. The garbage collector would remove it
 * too; doing it here keeps the value from outliving its ApiToken (or its old
 * name) even where GC lags or is absent.
 */
export async function removeSecret(ctx: Context, obj: ApiTokenObject, name: string): Promise<void> {
  const secret = await readSecret(ctx, obj.metadata.namespace, name);
  if (secret?.metadata?.ownerReferences?.some((r) => r.uid === obj.metadata.uid)) {
    await ctx.kube.deleteSecret(obj.metadata.namespace, name, secret.metadata.uid);
  }
}

async function readSecret(
  ctx: Context,
  namespace: string,
  name: string,
): Promise<V1Secret | undefined> {
  return ctx.secretCache.get(name, namespace) ?? (await ctx.kube.readSecret(namespace, name));
}

/** Rolls the declared workloads so they read the new value; a missing one is reported, not fatal. */
async function restartTargets(ctx: Context, obj: ApiTokenObject, secretName: string) {
  const at = ctx.now().toISOString();
  for (const target of obj.spec.rolloutRestartTargets ?? []) {
    try {
      await ctx.kube.restartWorkload(obj.metadata.namespace, target.kind, target.name, at);
      ctx.events.normal(
        obj,
        EventReasons.RolloutRestarted,
        `Restarted ${target.kind} "${target.name}" to pick up the new value in Secret "${secretName}".`,
      );
    } catch (err) {
      const code = isKubeError(err) ? ` (HTTP ${err.code})` : '';
      ctx.events.warning(
        obj,
        EventReasons.RolloutRestartFailed,
        `Could not restart ${target.kind} "${target.name}"${code}; restart it to pick up the new token.`,
      );
    }
  }
}

/**
 * The delivery stage: the Secret named by the spec holds the current value
 * (README "Kubernetes operator" keys, owner reference, template labels and annotations) and, during
 * a rotation's grace period, the value it replaced as `previousToken` (so
 * consumers can roll over without a gap); workloads listed in
 * `rolloutRestartTargets` are restarted when the value changes; the Secret of
 * a previous `secretName` goes. Our Secrets are read from the informer's cache —
 * live only when the cache has none, since someone else's Secret is not in it.
 */
import type { ApiTokenObject } from '../../crds/schemas.ts';
import { EventReasons } from '../../events.ts';
import { shardLabels } from '../../runtime/shard.ts';
import { type Context, checkTime } from '../context.ts';
import {
  DIGEST_ANNOTATION,
  desiredSecret,
  digest,
  previousUntil,
  previousValue,
  type SecretView,
  secretConflict,
  secretNameOf,
  secretUpToDate,
  viewSecret,
} from '../secret.ts';
import type { Issued } from './issuing.ts';

/**
 * The Secret as it is now, or why it must not be written (it belongs to
 * someone else). Read once per pass.
 */
export async function observeSecret(
  ctx: Context,
  obj: ApiTokenObject,
): Promise<{ secret: SecretView | undefined } | { conflict: string }> {
  const secret = await readSecret(ctx, obj.metadata.namespace, secretNameOf(obj));
  const conflict = secretConflict(secret, obj);
  return conflict ? { conflict } : { secret };
}

/** What delivery leaves for readiness. */
export type Delivered = {
  secretName: string;
  /** When the Secret's previousToken must go; null when it has none. */
  previousUntil: Date | null;
};

export async function deliver(
  ctx: Context,
  obj: ApiTokenObject,
  issued: Issued,
  existing: SecretView | undefined,
): Promise<Delivered> {
  const { token, rotatedUntil } = issued;
  checkTime(ctx);
  const secretName = secretNameOf(obj);
  const content = {
    tokenId: token.id,
    entityId: token.entityId,
    endpoint: ctx.endpoint,
    type: token.type,
    hint: token.hint,
    shardLabels: shardLabels(obj.metadata.labels, ctx.shardLabelKeys),
  };
  const now = ctx.now();
  let until = rotatedUntil ?? previousUntil(existing, now);
  if (rotatedUntil || !secretUpToDate(existing, obj, content, now)) {
    const value = issued.value ?? (await ctx.tokens.reveal(token.id));
    // The cache holds no values: the one to keep beside the new value is read live.
    const live =
      existing && until ? await ctx.kube.readSecret(obj.metadata.namespace, secretName) : undefined;
    let kept = previousValue(live, now, rotatedUntil);
    if (kept?.value === value) kept = undefined; // a replayed rotation the Secret already has
    until = kept?.until;
    await ctx.kube.applySecret(desiredSecret(obj, content, value, kept));
    const previous = existing?.metadata.annotations?.[DIGEST_ANNOTATION];
    if (previous && previous !== digest(value)) await ctx.restarts.request(obj, secretName);
    const { status } = obj;
    if (
      status?.secretName === secretName &&
      status.tokenId === token.id &&
      issued.origin === 'recorded'
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
  // come back when the previous value stops verifying, to take it out of the Secret
  return { secretName, previousUntil: until ?? null };
}

/**
 * Removes a Secret this ApiToken owns. The garbage collector would remove it
 * too; doing it here keeps the value from outliving its ApiToken (or its old
 * name) even where GC lags or is absent.
 */
export async function removeSecret(ctx: Context, obj: ApiTokenObject, name: string): Promise<void> {
  const secret = await readSecret(ctx, obj.metadata.namespace, name);
  if (secret?.metadata.ownerReferences?.some((r) => r.uid === obj.metadata.uid)) {
    await ctx.kube.deleteSecret(obj.metadata.namespace, name, secret.metadata.uid);
  }
}

async function readSecret(
  ctx: Context,
  namespace: string,
  name: string,
): Promise<SecretView | undefined> {
  return (
    ctx.secretCache.get(name, namespace) ?? viewSecret(await ctx.kube.readSecret(namespace, name))
  );
}

/**
 * The last stage: from what issuing and delivery returned, the token's hint
 * and expiry, `renewalTime`, the `Ready`/`Synced` conditions and the expiry
 * metric; the one status write of the reconcile; when to come back (the
 * renewal time, the end of the previous value's grace, or the resync).
 */
import type { ApiTokenObject } from '../../crds/schemas.ts';
import { outcome } from '../../runtime/conditions.ts';
import type { Result } from '../../runtime/workqueue.ts';
import { type Context, writeStatus } from '../context.ts';
import type { Delivered } from './delivery.ts';
import type { Issued } from './issuing.ts';

export async function ready(
  ctx: Context,
  obj: ApiTokenObject,
  issued: Issued,
  delivered: Delivered,
): Promise<Result> {
  const { token, renewalTime } = issued;
  const { namespace, name, generation } = obj.metadata;
  if (token.expiresAt) {
    ctx.metrics.tokenExpiry.set({ namespace, name }, Date.parse(token.expiresAt) / 1000);
  }
  // With the expiry, what the alerts of deploy/helm/tokenplane-operator/rules read.
  if (renewalTime) ctx.metrics.tokenRenewal.set({ namespace, name }, renewalTime.getTime() / 1000);
  else ctx.metrics.tokenRenewal.remove({ namespace, name });
  if (token.usage?.limit)
    ctx.metrics.tokenUsage.set({ namespace, name }, token.usage.used / token.usage.limit);
  else ctx.metrics.tokenUsage.remove({ namespace, name });
  const tokenChanged = obj.status?.tokenId !== token.id;
  await writeStatus(ctx, 'apitokens', obj, {
    ...obj.status,
    ...issued.status,
    secretName: delivered.secretName,
    hint: token.hint,
    expiresAt: token.expiresAt ?? undefined,
    renewalTime: renewalTime?.toISOString(),
    observedGeneration: generation,
    conditions: outcome(
      obj.status?.conditions,
      generation,
      token.status === 'active'
        ? { ok: true }
        : { ok: true, message: 'The token is disabled, as the spec asks.' },
      ctx.now(),
    ),
  });
  // The Entity's status counts its tokens.
  if (tokenChanged && obj.spec.entityRef)
    ctx.enqueueEntity(namespace, obj.spec.entityRef.name, 1000);
  const until = (at: Date | null | undefined) =>
    at ? at.getTime() - ctx.now().getTime() : Number.POSITIVE_INFINITY;
  const next = Math.min(ctx.resyncMs, until(renewalTime), until(delivered.previousUntil) + 500);
  return { requeueAfterMs: Math.max(1000, next) };
}

/**
 * ApiToken reconciler. In order, each step guarded and idempotent:
 *   deleting → revoke (Delete) or leave (Orphan), drop the Secret, release;
 *   finalizer; entity resolved and Ready;
 *   issue: keep the recorded token, or adopt (`tokenId`, `adoptDefaultToken`),
 *     or create with an Idempotency-Key derived from the uid and issuance count;
 *   update in place (name, status, expiry) — drift on the platform is repaired;
 *   rotate when `renewalTime` has passed (idempotency key: uid + rotation count);
 *   write the Secret when it does not hold the current value;
 *   status, and come back at the renewal time or the resync interval.
 * Token values live only in local variables and the Secret: never in logs,
 * Events, conditions or errors.
 */
import {
  type DesiredToken,
  describeChanges,
  expiryFromLifetime,
  needsReplace,
  rotationPlan,
  tokenChanges,
} from '../../platform/external/index.ts';
import type { Token } from '../../platform/schemas/index.ts';
import type { ApiTokenObject, ApiTokenStatus } from '../crds/schemas.ts';
import { FINALIZER } from '../kube.ts';
import { isReady, outcome, Reasons } from '../runtime/conditions.ts';
import type { Result } from '../runtime/workqueue.ts';
import {
  type Context,
  drive,
  isKubeError,
  lower,
  notReady,
  removeFinalizer,
  writeStatus,
} from './context.ts';
import {
  DIGEST_ANNOTATION,
  desiredSecret,
  digest,
  secretConflict,
  secretNameOf,
  secretUpToDate,
} from './secret.ts';

const PLURAL = 'apitokens';
const WAIT_MS = 30_000;

export async function reconcileApiToken(
  ctx: Context,
  namespace: string,
  name: string,
): Promise<Result> {
  const obj = await ctx.kube.get<ApiTokenObject>(PLURAL, namespace, name);
  if (!obj) {
    ctx.metrics.tokenExpiry.remove({ namespace, name });
    return {};
  }
  return drive(ctx, PLURAL, obj, { finalize, sync });
}

async function sync(ctx: Context, obj: ApiTokenObject): Promise<Result> {
  const { spec } = obj;
  const entity = resolveEntity(ctx, obj);
  if ('wait' in entity)
    return notReady(ctx, PLURAL, obj, Reasons.EntityNotReady, entity.wait, {
      requeueAfterMs: WAIT_MS,
    });
  const desired: DesiredToken = {
    entityId: entity.id,
    name: spec.displayName ?? obj.metadata.name,
    status: lower(spec.status) as DesiredToken['status'],
    ...(spec.expiresAt ? { expiresAt: new Date(spec.expiresAt).toISOString() } : {}),
  };

  // Never take over a Secret that belongs to someone else (two writers loop forever).
  const conflict = secretConflict(
    await ctx.kube.readSecret(obj.metadata.namespace, secretNameOf(obj)),
    obj,
  );
  if (conflict) {
    ctx.events.record(obj, 'Warning', 'SecretConflict', conflict);
    return notReady(ctx, PLURAL, obj, 'SecretConflict', conflict, { requeueAfterMs: WAIT_MS });
  }

  const issued = await issue(ctx, obj, desired);
  if ('refusal' in issued) return issued.refusal;
  let { token, value } = issued;
  const { issuance } = issued;

  // A token given a lifetime gets its expiry from it once, when we take it over.
  if (spec.lifetime && issued.fresh) {
    const from = issued.created ? new Date(token.createdAt) : ctx.now();
    desired.expiresAt = expiryFromLifetime(
      from,
      rotationPlan({ lifetime: spec.lifetime }, null, from).lifetimeMs,
    );
  }
  const changes = tokenChanges(desired, token);
  if (needsReplace(changes)) {
    const message = `Token ${token.id} belongs to another entity (${describeChanges(changes)}); it cannot be moved. Fix the spec or delete and recreate the ApiToken.`;
    ctx.events.record(obj, 'Warning', Reasons.NeedsReplace, message);
    return notReady(ctx, PLURAL, obj, Reasons.NeedsReplace, message, {
      requeueAfterMs: ctx.resyncMs,
    });
  }
  if (changes.length > 0) {
    token = await ctx.tokens.update(token.id, changes);
    const repaired = !issued.fresh && obj.status?.observedGeneration === obj.metadata.generation;
    ctx.events.record(
      obj,
      'Normal',
      repaired ? 'Repaired' : 'Updated',
      `${repaired ? 'Repaired drift on' : 'Updated'} platform token ${token.id}: ${describeChanges(changes)}.`,
    );
  }

  // Rotation.
  let rotations = obj.status?.rotations ?? 0;
  let lastRotationTime = obj.status?.lastRotationTime;
  let renewal: Date | null = null;
  if (spec.lifetime) {
    const policy = {
      lifetime: spec.lifetime,
      renewBefore: spec.renewBefore,
      gracePeriod: spec.rotationGracePeriod,
    };
    const plan = rotationPlan(policy, token.expiresAt, ctx.now());
    renewal = plan.renewalTime;
    if (plan.due) {
      const key = `apitoken:${obj.metadata.uid}:${issuance}:rotate:${rotations}`;
      const rotated = await ctx.tokens.rotate(token.id, plan.gracePeriodSeconds, key);
      value = rotated.value;
      const expiresAt = expiryFromLifetime(ctx.now(), plan.lifetimeMs);
      token = await ctx.tokens.update(token.id, [
        { field: 'expiresAt', from: rotated.expiresAt, to: expiresAt, action: 'update' },
      ]);
      rotations++;
      lastRotationTime = ctx.now().toISOString();
      renewal = rotationPlan(policy, token.expiresAt, ctx.now()).renewalTime;
      ctx.events.record(
        obj,
        'Normal',
        'Rotated',
        `Rotated platform token ${token.id}; the previous value keeps verifying for ${plan.gracePeriodSeconds}s.`,
      );
    }
  }

  // Secret.
  const secretName = secretNameOf(obj);
  const content = {
    tokenId: token.id,
    entityId: token.entityId,
    endpoint: ctx.endpoint,
    hint: token.hint,
  };
  const existing = await ctx.kube.readSecret(obj.metadata.namespace, secretName);
  if (!secretUpToDate(existing, obj, content)) {
    value ??= await ctx.tokens.reveal(token.id);
    await ctx.kube.applySecret(desiredSecret(obj, content, value));
    const previous = existing?.metadata?.annotations?.[DIGEST_ANNOTATION];
    if (previous && previous !== digest(value)) await restartTargets(ctx, obj, secretName);
    if (obj.status?.secretName === secretName && obj.status.tokenId === token.id && !issued.fresh) {
      const what = existing ? 'did not hold the current token' : 'was missing';
      ctx.events.record(
        obj,
        'Normal',
        'SecretRestored',
        `Secret "${secretName}" ${what}; wrote it again.`,
      );
    }
  }
  const oldSecret = obj.status?.secretName;
  if (oldSecret && oldSecret !== secretName) {
    const old = await ctx.kube.readSecret(obj.metadata.namespace, oldSecret);
    if (old?.metadata?.ownerReferences?.some((r) => r.uid === obj.metadata.uid)) {
      await ctx.kube.deleteSecret(obj.metadata.namespace, oldSecret, old.metadata.uid);
    }
  }

  if (token.expiresAt) {
    ctx.metrics.tokenExpiry.set(
      { namespace: obj.metadata.namespace, name: obj.metadata.name },
      Date.parse(token.expiresAt) / 1000,
    );
  }
  const status: ApiTokenStatus = {
    tokenId: token.id,
    entityId: token.entityId,
    hint: token.hint,
    expiresAt: token.expiresAt ?? undefined,
    renewalTime: renewal?.toISOString(),
    secretName,
    lastRotationTime,
    rotations: rotations || undefined,
    issuance: issuance || undefined,
    observedGeneration: obj.metadata.generation,
    conditions: outcome(
      obj.status?.conditions,
      obj.metadata.generation,
      token.status === 'active'
        ? { ok: true }
        : { ok: true, message: 'The token is disabled, as the spec asks.' },
      ctx.now(),
    ),
  };
  const tokenChanged = obj.status?.tokenId !== token.id;
  await writeStatus(ctx, PLURAL, obj, status);
  if (tokenChanged && spec.entityRef)
    ctx.enqueueEntity(obj.metadata.namespace, spec.entityRef.name, 1000);

  const untilRenewal = renewal ? renewal.getTime() - ctx.now().getTime() : Number.POSITIVE_INFINITY;
  return { requeueAfterMs: Math.max(1000, Math.min(ctx.resyncMs, untilRenewal)) };
}

/** Rolls the declared workloads so they read the new value; a missing one is reported, not fatal. */
async function restartTargets(ctx: Context, obj: ApiTokenObject, secretName: string) {
  const at = ctx.now().toISOString();
  for (const target of obj.spec.rolloutRestartTargets ?? []) {
    try {
      await ctx.kube.restartWorkload(obj.metadata.namespace, target.kind, target.name, at);
      ctx.events.record(
        obj,
        'Normal',
        'RolloutRestarted',
        `Restarted ${target.kind} "${target.name}" to pick up the new value in Secret "${secretName}".`,
      );
    } catch (err) {
      const code = isKubeError(err) ? ` (HTTP ${err.code})` : '';
      ctx.events.record(
        obj,
        'Warning',
        'RolloutRestartFailed',
        `Could not restart ${target.kind} "${target.name}"${code}; restart it to pick up the new token.`,
      );
    }
  }
}

type Issued =
  | { token: Token; value?: string; issuance: number; fresh: boolean; created: boolean }
  | { refusal: Result };

/** Finds the token this object holds, adopts one, or creates one. */
async function issue(ctx: Context, obj: ApiTokenObject, desired: DesiredToken): Promise<Issued> {
  const { spec, status } = obj;
  let issuance = status?.issuance ?? 0;
  if (status?.tokenId) {
    const current = await ctx.tokens.find(status.tokenId);
    if (current) return { token: current, issuance, fresh: false, created: false };
    issuance++;
    ctx.events.record(
      obj,
      'Warning',
      'TokenMissing',
      `Platform token ${status.tokenId} was removed outside Kubernetes; issuing a replacement.`,
    );
  }
  if (issuance === 0 && spec.tokenId) {
    const adopted = await ctx.tokens.find(spec.tokenId);
    if (!adopted) {
      const message = `No platform token has id ${spec.tokenId} (spec.tokenId). Check the id, or remove tokenId to issue a new token.`;
      ctx.events.record(obj, 'Warning', Reasons.NotFound, message);
      return {
        refusal: await notReady(ctx, PLURAL, obj, Reasons.NotFound, message, {
          error: new Error(message),
        }),
      };
    }
    ctx.events.record(obj, 'Normal', 'Adopted', `Adopted platform token ${adopted.id}.`);
    return { token: adopted, issuance, fresh: true, created: false };
  }
  if (issuance === 0 && spec.adoptDefaultToken) {
    const adopted = await ctx.tokens.findDefault(desired.entityId);
    if (!adopted) {
      const message =
        'The entity has no `default` token to adopt (was it created with defaultToken: false, or removed?). ' +
        'Remove adoptDefaultToken to issue a new token.';
      ctx.events.record(obj, 'Warning', Reasons.NotFound, message);
      return {
        refusal: await notReady(ctx, PLURAL, obj, Reasons.NotFound, message, {
          error: new Error(message),
        }),
      };
    }
    ctx.events.record(
      obj,
      'Normal',
      'Adopted',
      `Adopted the entity's default token ${adopted.id}.`,
    );
    return { token: adopted, issuance, fresh: true, created: false };
  }
  // Same uid and issuance → same key → a retry after a crash gets the first token back.
  const key = `apitoken:${obj.metadata.uid}:${issuance}`;
  const created = await ctx.tokens.create(
    {
      entityId: desired.entityId,
      name: desired.name,
      status: desired.status,
      expiresAt: desired.expiresAt,
    },
    key,
  );
  ctx.events.record(
    obj,
    'Normal',
    'Created',
    `Created platform token ${created.id} (${created.hint}).`,
  );
  const { value, ...token } = created;
  return { token, value, issuance, fresh: true, created: true };
}

function resolveEntity(ctx: Context, obj: ApiTokenObject): { id: string } | { wait: string } {
  const ref = obj.spec.entityRef;
  if (!ref) return { id: obj.spec.entityId as string };
  const entity = ctx.entityCache.get(ref.name, obj.metadata.namespace);
  if (!entity)
    return { wait: `Waiting for Entity "${ref.name}", which does not exist in this namespace.` };
  if (!entity.status?.id)
    return { wait: `Waiting for Entity "${ref.name}" to be created on the platform.` };
  if (!isReady(entity) && !obj.status?.tokenId)
    return { wait: `Waiting for Entity "${ref.name}" to become Ready.` };
  return { id: entity.status.id };
}

async function finalize(ctx: Context, obj: ApiTokenObject): Promise<Result> {
  if (!obj.metadata.finalizers?.includes(FINALIZER)) return {};
  const id = obj.status?.tokenId;
  if (id && obj.spec.deletionPolicy === 'Delete') {
    await ctx.tokens.delete(id);
    ctx.events.record(obj, 'Normal', 'Deleted', `Revoked platform token ${id}.`);
  } else if (id) {
    ctx.events.record(
      obj,
      'Normal',
      'Orphaned',
      `Left platform token ${id} in place (deletionPolicy: Orphan).`,
    );
  }
  // The garbage collector would remove the owned Secret too; doing it here keeps
  // the token value from outliving its ApiToken even where GC lags or is absent.
  const secretName = obj.status?.secretName ?? secretNameOf(obj);
  const secret = await ctx.kube.readSecret(obj.metadata.namespace, secretName);
  if (secret?.metadata?.ownerReferences?.some((r) => r.uid === obj.metadata.uid)) {
    await ctx.kube.deleteSecret(obj.metadata.namespace, secretName, secret.metadata.uid);
  }
  ctx.metrics.tokenExpiry.remove({ namespace: obj.metadata.namespace, name: obj.metadata.name });
  await removeFinalizer(ctx, PLURAL, obj, FINALIZER);
  if (obj.spec.entityRef) ctx.enqueueEntity(obj.metadata.namespace, obj.spec.entityRef.name, 1000);
  // Room may have appeared for a sibling that was refused for quota.
  for (const other of siblings(ctx, obj))
    ctx.enqueueToken(other.metadata.namespace, other.metadata.name);
  return {};
}

function siblings(ctx: Context, obj: ApiTokenObject): ApiTokenObject[] {
  const entity = obj.spec.entityRef?.name;
  return ctx.tokenCache
    .list()
    .filter(
      (t) =>
        t.metadata.namespace === obj.metadata.namespace &&
        t.metadata.name !== obj.metadata.name &&
        (entity ? t.spec.entityRef?.name === entity : t.spec.entityId === obj.spec.entityId),
    );
}

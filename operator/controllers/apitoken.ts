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
  createOrGone,
  type DesiredToken,
  describeChanges,
  type Origin,
  planToken,
  Reasons,
  type TokenDeclaration,
  type TokenPolicy,
} from '../../platform/external/index.ts';
import type { Token } from '../../platform/schemas/index.ts';
import type { ApiTokenObject, ApiTokenStatus } from '../crds/schemas.ts';
import { EventReasons } from '../events.ts';
import { FINALIZER } from '../kube.ts';
import { isReady, outcome } from '../runtime/conditions.ts';
import type { Result } from '../runtime/workqueue.ts';
import {
  type Context,
  drive,
  isKubeError,
  lower,
  refused,
  removeFinalizer,
  waiting,
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
/** create or adopt, update, rotate: never more than this many actions in one pass. */
const MAX_ACTIONS = 4;

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
  if ('wait' in entity) return waiting(ctx, PLURAL, obj, Reasons.EntityNotReady, entity.wait);

  // Never take over a Secret that belongs to someone else (two writers loop forever).
  const conflict = secretConflict(
    await ctx.kube.readSecret(obj.metadata.namespace, secretNameOf(obj)),
    obj,
  );
  if (conflict) {
    ctx.events.warning(obj, Reasons.SecretConflict, conflict);
    // Our Secret informer does not see someone else's Secret go: look again soon.
    return waiting(ctx, PLURAL, obj, Reasons.SecretConflict, conflict);
  }

  const issued = await settle(ctx, obj, declarationOf(obj, entity.id));
  if ('result' in issued) return issued.result;
  const { token, origin, renewalTime: renewal, policy } = issued;
  let { value } = issued;

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
    if (
      obj.status?.secretName === secretName &&
      obj.status.tokenId === token.id &&
      origin === 'recorded'
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
    lastRotationTime: issued.lastRotationTime,
    rotations: policy.rotations || undefined,
    issuance: policy.issuance || undefined,
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

function declarationOf(obj: ApiTokenObject, entityId: string): TokenDeclaration {
  const { spec } = obj;
  return {
    desired: {
      entityId,
      name: spec.displayName ?? obj.metadata.name,
      status: lower(spec.status) as DesiredToken['status'],
      ...(spec.expiresAt ? { expiresAt: new Date(spec.expiresAt).toISOString() } : {}),
    },
    tokenId: spec.tokenId,
    adoptDefaultToken: spec.adoptDefaultToken,
    rotation: spec.lifetime
      ? {
          lifetime: spec.lifetime,
          renewBefore: spec.renewBefore,
          gracePeriod: spec.rotationGracePeriod,
        }
      : undefined,
  };
}

type Settled =
  | {
      token: Token;
      origin: Origin;
      /** The value, when an action of this pass returned it (create, rotate). */
      value?: string;
      renewalTime: Date | null;
      lastRotationTime?: string;
      policy: TokenPolicy;
    }
  | { result: Result };

/**
 * Observes the platform, then carries out the planner's actions (create or
 * adopt, update, rotate) until it has nothing left to do or refuses.
 */
async function settle(
  ctx: Context,
  obj: ApiTokenObject,
  declaration: TokenDeclaration,
): Promise<Settled> {
  const policy: TokenPolicy = {
    identity: `apitoken:${obj.metadata.uid}`,
    issuance: obj.status?.issuance ?? 0,
    rotations: obj.status?.rotations ?? 0,
    now: ctx.now(),
  };
  const facts = await ctx.tokens.facts(declaration, obj.status?.tokenId, policy.issuance);
  let value: string | undefined;
  let lastRotationTime = obj.status?.lastRotationTime;
  for (let i = 0; i < MAX_ACTIONS; i++) {
    const plan = planToken(declaration, facts, policy);
    const origin = facts.held && 'token' in facts.held ? facts.held.origin : 'created';
    switch (plan.action) {
      case 'none':
        return {
          token: plan.token,
          origin,
          value,
          renewalTime: plan.renewalTime,
          lastRotationTime,
          policy,
        };
      case 'refuse':
      case 'replace':
        return { result: await refused(ctx, PLURAL, obj, plan) };
      case 'create': {
        if (plan.replacing)
          ctx.events.warning(
            obj,
            EventReasons.TokenMissing,
            `Platform token ${plan.replacing} was removed outside Kubernetes; issuing a replacement.`,
          );
        // Same uid and issuance → same key → a retry after a crash gets the first token back.
        const made = await createOrGone(ctx.tokens, declaration.desired, plan.idempotencyKey);
        policy.issuance = plan.issuance;
        if ('gone' in made) {
          facts.held = made;
          break;
        }
        const { value: issued, ...token } = made.created;
        ctx.events.normal(
          obj,
          EventReasons.Created,
          `Created platform token ${token.id} (${token.hint})` +
            (plan.noDefault ? '; the entity had no `default` token to adopt.' : '.'),
        );
        value = issued;
        facts.held = { token, origin: 'created' };
        break;
      }
      case 'adopt':
        ctx.events.normal(
          obj,
          EventReasons.Adopted,
          plan.source === 'default'
            ? `Adopted the entity's default token ${plan.token.id}.`
            : `Adopted platform token ${plan.token.id}.`,
        );
        facts.held = { token: plan.token, origin: 'adopted' };
        break;
      case 'update': {
        const token = await ctx.tokens.update(plan.token.id, plan.changes);
        const repaired =
          origin === 'recorded' && obj.status?.observedGeneration === obj.metadata.generation;
        ctx.events.normal(
          obj,
          repaired ? EventReasons.Repaired : EventReasons.Updated,
          `${repaired ? 'Repaired drift on' : 'Updated'} platform token ${token.id}: ${describeChanges(plan.changes)}.`,
        );
        facts.held = { token, origin };
        break;
      }
      case 'rotate': {
        const rotated = await ctx.tokens.rotate(
          plan.token.id,
          plan.gracePeriodSeconds,
          plan.idempotencyKey,
        );
        value = rotated.value;
        const token = await ctx.tokens.update(plan.token.id, [
          { field: 'expiresAt', from: rotated.expiresAt, to: plan.expiresAt, action: 'update' },
        ]);
        policy.rotations++;
        lastRotationTime = ctx.now().toISOString();
        ctx.events.normal(
          obj,
          EventReasons.Rotated,
          `Rotated platform token ${token.id}; the previous value keeps verifying for ${plan.gracePeriodSeconds}s.`,
        );
        facts.held = { token, origin };
        break;
      }
    }
  }
  throw new Error('the token planner did not settle; retrying');
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
    ctx.events.normal(obj, EventReasons.Deleted, `Revoked platform token ${id}.`);
  } else if (id) {
    ctx.events.normal(
      obj,
      EventReasons.Orphaned,
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

/** What the reconcilers share: clients, recorder, caches and settings. */
import { isDeepStrictEqual } from 'node:util';
import { ApiException } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { TierTable } from '../../core/domain/index.ts';
import {
  describeFailure,
  type EntityExternal,
  type Reason,
  Reasons,
  type Refusal,
  refuse,
  type TokenExternal,
} from '../../core/external/index.ts';
import type { ApiTokenObject, EntityObject } from '../crds/schemas.ts';
import { type EventReason, EventReasons, type EventRecorder } from '../events.ts';
import { FINALIZER, type Kube } from '../kube.ts';
import { outcome } from '../runtime/conditions.ts';
import type { Metrics } from '../runtime/metrics.ts';
import type { Result } from '../runtime/workqueue.ts';
import type { RolloutRestarter } from './restarts.ts';
import type { SecretView } from './secret.ts';

/** The calls the reconcilers make (tests hand in object literals). */
export type KubeCalls = Pick<
  Kube,
  | 'setFinalizers'
  | 'patchStatus'
  | 'readSecret'
  | 'applySecret'
  | 'deleteSecret'
  | 'restartWorkload'
  | 'listWorkloads'
>;
type Cache<T> = { get(name: string, namespace: string): T | undefined };
type Plural = 'entities' | 'apitokens';

export type Context = {
  kube: KubeCalls;
  events: Pick<EventRecorder, 'normal' | 'warning'>;
  entities: Pick<EntityExternal, 'observe' | 'find' | 'create' | 'update' | 'delete'>;
  tokens: Pick<
    TokenExternal,
    'observe' | 'find' | 'findDefault' | 'create' | 'update' | 'rotatePlanned' | 'reveal' | 'delete'
  >;
  /** The platform's tier table (GET /v1/tiers), cached. */
  tiers(): Promise<TierTable>;
  log: Logger;
  metrics: Metrics;
  /** Debounced rollout restarts of the workloads a Secret's consumers run in. */
  restarts: Pick<RolloutRestarter, 'request'>;
  /** The platform endpoint written into each Secret. */
  endpoint: string;
  /** Label keys of the shard selector; their values go from an ApiToken onto its Secret. */
  shardLabelKeys: readonly string[];
  /** How often an object is reconciled without any change, to catch drift on the platform. */
  resyncMs: number;
  /** The informers' caches: reconcilers read objects and our Secrets there, never live. */
  entityCache: Cache<EntityObject>;
  tokenCache: Cache<ApiTokenObject>;
  secretCache: Cache<SecretView>;
  /** Names of the ApiTokens in a namespace that belong to an entity (triggers.ts `entityOf`), from an index. */
  tokensOf(namespace: string, entity: string): string[];
  /**
   * How long one reconcile may spend on the platform and the API server; the
   * status is written after it (Crossplane's outer timeout).
   */
  reconcileTimeoutMs: number;
  /** When this reconcile's time is up (ms on the `now` clock; set by `drive`). */
  deadline?: number;
  enqueueEntity(namespace: string, name: string, delayMs?: number): void;
  enqueueToken(namespace: string, name: string, delayMs?: number): void;
  now(): Date;
};

/** The CRD's CamelCase enums on the platform's lower-case names. */
export const lower = (value: string) => value.toLowerCase();

/**
 * Writes status only when it differs from what the object already shows; keys
 * that disappeared are sent as null so the merge patch removes them.
 */
export async function writeStatus<S extends object>(
  ctx: Context,
  plural: Plural,
  obj: { metadata: { namespace: string; name: string }; status?: S },
  status: S,
): Promise<void> {
  const clean = Object.fromEntries(Object.entries(status).filter(([, v]) => v !== undefined));
  const previous = (obj.status ?? {}) as Record<string, unknown>;
  if (isDeepStrictEqual(previous, clean)) return;
  const patch: Record<string, unknown> = { ...clean };
  for (const key of Object.keys(previous)) if (!(key in clean)) patch[key] = null;
  await ctx.kube.patchStatus(plural, obj.metadata.namespace, obj.metadata.name, patch);
  obj.status = clean as S;
}

/**
 * Puts our finalizer on (`on`) or takes it off, guarded by resourceVersion;
 * no call when the object already is so.
 */
export async function setFinalizer(
  ctx: Context,
  plural: Plural,
  obj: {
    metadata: { namespace: string; name: string; resourceVersion?: string; finalizers?: string[] };
  },
  on: boolean,
): Promise<void> {
  const finalizers = obj.metadata.finalizers ?? [];
  if (finalizers.includes(FINALIZER) === on) return;
  const next = on ? [...finalizers, FINALIZER] : finalizers.filter((f) => f !== FINALIZER);
  await ctx.kube.setFinalizers(plural, obj.metadata, next);
  obj.metadata.finalizers = next;
}

/**
 * The platform object of a deleted Kubernetes object: removed (deletionPolicy
 * Delete) or left in place (Orphan), and an Event says which.
 */
export async function release(
  ctx: Context,
  obj: EntityObject | ApiTokenObject,
  id: string | undefined,
  what: { name: string; removed: string; remove(id: string): Promise<void> },
): Promise<void> {
  if (!id) return;
  if (obj.spec.deletionPolicy === 'Delete') {
    await what.remove(id);
    ctx.events.normal(obj, EventReasons.Deleted, `${what.removed} platform ${what.name} ${id}.`);
    return;
  }
  ctx.events.normal(
    obj,
    EventReasons.Orphaned,
    `Left platform ${what.name} ${id} in place (deletionPolicy: Orphan).`,
  );
}

export const isKubeError = (err: unknown): err is ApiException<unknown> =>
  err instanceof ApiException;

/** A Kubernetes write failed (often a 409 on a stale object): retry with backoff, say little. */
export function kubeRetry(
  ctx: Context,
  kind: string,
  obj: { metadata: { namespace: string; name: string } },
  err: ApiException<unknown>,
): Result {
  ctx.metrics.errors.inc({ kind, reason: `Kubernetes${err.code}` });
  ctx.log.info(
    { kind, namespace: obj.metadata.namespace, name: obj.metadata.name, code: err.code },
    'kubernetes call failed; retrying',
  );
  return { error: err };
}

const KIND_OF: Record<Plural, string> = { entities: 'Entity', apitokens: 'ApiToken' };

/** Ready=False (and Synced=False) with a reason and a message a person can act on. */
export async function notReady(
  ctx: Context,
  plural: Plural,
  obj: EntityObject | ApiTokenObject,
  reason: Reason,
  message: string,
  result: Result,
): Promise<Result> {
  await writeStatus(ctx, plural, obj, {
    ...obj.status,
    observedGeneration: obj.metadata.generation,
    conditions: outcome(
      obj.status?.conditions,
      obj.metadata.generation,
      { ok: false, reason, message },
      ctx.now(),
    ),
  });
  return result;
}

/**
 * The planner refused, or asks for a replacement the operator cannot make (a
 * Kubernetes object names one platform object for its life): a Warning Event and
 * Ready=False with its message; retried with backoff when waiting can help,
 * otherwise at the next resync.
 */
export function refused(
  ctx: Context,
  plural: Plural,
  obj: EntityObject | ApiTokenObject,
  plan: Pick<Refusal, 'reason' | 'message' | 'retryable'> | { action: 'replace'; message: string },
): Promise<Result> {
  const refusal = 'reason' in plan ? plan : refuse(Reasons.NeedsReplace, plan.message, false);
  ctx.events.warning(obj, refusal.reason, refusal.message);
  return notReady(
    ctx,
    plural,
    obj,
    refusal.reason,
    refusal.message,
    refusal.retryable ? { error: new Error(refusal.message) } : { requeueAfterMs: ctx.resyncMs },
  );
}

/** How soon to look again while waiting on another object that may not notify us. */
const WAIT_MS = 30_000;

/** Ready=False while waiting for another object; looked at again soon. */
export function waiting(
  ctx: Context,
  plural: Plural,
  obj: EntityObject | ApiTokenObject,
  reason: Reason,
  message: string,
): Promise<Result> {
  return notReady(ctx, plural, obj, reason, message, { requeueAfterMs: WAIT_MS });
}

/**
 * A reconcile failed: Kubernetes write conflicts are retried quietly; platform
 * refusals become a Warning Event and Ready=False with the platform's message,
 * retried with backoff when waiting can help, otherwise at the next resync.
 */
export async function fail(
  ctx: Context,
  plural: Plural,
  obj: EntityObject | ApiTokenObject,
  err: unknown,
): Promise<Result> {
  const kind = KIND_OF[plural];
  if (isKubeError(err)) return kubeRetry(ctx, kind, obj, err);
  const failure =
    err instanceof TimedOut
      ? { reason: Reasons.PlatformUnavailable, message: err.message, retryable: true }
      : describeFailure(err);
  ctx.metrics.errors.inc({ kind, reason: failure.reason });
  ctx.log.warn(
    {
      kind,
      namespace: obj.metadata.namespace,
      name: obj.metadata.name,
      reason: failure.reason,
      detail: failure.message,
    },
    'reconcile failed',
  );
  try {
    await refused(ctx, plural, obj, failure);
  } catch (statusErr) {
    ctx.log.warn({ err: String(statusErr).slice(0, 200) }, 'status not written');
  }
  return failure.retryable ? { error: err } : { requeueAfterMs: ctx.resyncMs };
}

/**
 * The object to reconcile, from the informer's cache: a copy, since the cache's
 * objects are shared with every other reader.
 */
export function cached<O>(cache: Cache<O>, namespace: string, name: string) {
  const obj = cache.get(name, namespace);
  return obj === undefined ? undefined : structuredClone(obj);
}

/**
 * The hooks every executor run of a reconcile shares: the deadline before each
 * round, and a Warning Event before a create that replaces a platform object
 * gone from under us.
 */
export function replacementHooks(
  ctx: Context,
  obj: EntityObject | ApiTokenObject,
  reason: EventReason,
  gone: (id: string) => string,
) {
  return {
    round: () => checkTime(ctx),
    creating(plan: { replacing?: string | undefined }) {
      if (plan.replacing) ctx.events.warning(obj, reason, gone(plan.replacing));
    },
  };
}

/** Between steps: stop when this reconcile's time is up, leaving time for the status. */
export function checkTime(ctx: Context): void {
  if (ctx.deadline === undefined || ctx.now().getTime() < ctx.deadline) return;
  const seconds = Math.round(ctx.reconcileTimeoutMs / 1000);
  throw new TimedOut(
    `The reconcile did not finish within ${seconds}s (the platform or the Kubernetes API is slow); retrying.`,
  );
}

class TimedOut extends Error {}

/**
 * The order every reconcile follows, whatever the kind (after Crossplane's
 * managed reconciler): being deleted → finalize; otherwise make sure our
 * finalizer is on, then sync. Every failure goes through `fail`, which writes
 * the status — also when the time is up (`checkTime`).
 */
export async function drive<O extends EntityObject | ApiTokenObject>(
  ctx: Context,
  plural: Plural,
  obj: O,
  steps: {
    finalize(ctx: Context, obj: O): Promise<Result>;
    sync(ctx: Context, obj: O): Promise<Result>;
  },
): Promise<Result> {
  const timed: Context = { ...ctx, deadline: ctx.now().getTime() + ctx.reconcileTimeoutMs };
  const { namespace, name } = obj.metadata;
  try {
    if (obj.metadata.deletionTimestamp) {
      forget(ctx, plural, namespace, name);
      return await steps.finalize(timed, obj);
    }
    await setFinalizer(timed, plural, obj, true);
    return await steps.sync(timed, obj);
  } catch (err) {
    return await fail(ctx, plural, obj, err);
  } finally {
    const ready = obj.status?.conditions?.find((c) => c.type === 'Ready');
    if (ready && !obj.metadata.deletionTimestamp)
      ctx.metrics.ready.set(
        { kind: KIND_OF[plural], namespace, name },
        ready.status === 'True' ? 1 : 0,
      );
  }
}

/** Drops the series of an object being deleted or gone (they would alert for ever). */
export function forget(ctx: Context, plural: Plural, namespace: string, name: string): void {
  ctx.metrics.ready.remove({ kind: KIND_OF[plural], namespace, name });
  if (plural !== 'apitokens') return;
  for (const gauge of [ctx.metrics.tokenExpiry, ctx.metrics.tokenRenewal, ctx.metrics.tokenUsage])
    gauge.remove({ namespace, name });
}

/**
 * The external-client contract (after Crossplane's managed reconciler): each verb
 * is idempotent and does one platform round trip or two. Each kind's `observe`
 * (entity.ts, token.ts) reports every fact that kind's planner reads and
 * changes nothing; the planner decides, and the executor (executor.ts) carries
 * out what it decided, for the operator's reconcilers and the Pulumi provider alike.
 */
import { IdempotencyGoneError, isNotFound } from '../client/index.ts';
import type { FieldChange } from './changes.ts';

export interface External<Desired, Actual, Created = Actual> {
  /** The object, or null when the platform says it does not exist. */
  find(id: string): Promise<Actual | null>;
  /** The idempotency key makes a retried or crash-repeated create return the first result. */
  create(desired: Desired, idempotencyKey: string): Promise<Created>;
  update(id: string, changes: readonly FieldChange[]): Promise<Actual>;
  /** Succeeds when the object is already gone. */
  delete(id: string): Promise<void>;
}

/** The object, or null when the platform says it does not exist. */
export async function orNull<T>(read: Promise<T>): Promise<T | null> {
  try {
    return await read;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

/** A delete that succeeds when the object is already gone. */
export async function gone(remove: Promise<void>): Promise<void> {
  await orNull(remove);
}

/**
 * A create, answered `{ gone }` when the platform refuses to replay the result
 * of an earlier request with the same idempotency key because the `what` it
 * created has been removed since (410 idempotency-gone): the planner then sees
 * it as gone and issues anew under the next key. Any other 410 is thrown: an
 * entity create whose default token's value is gone made an entity that still
 * exists, and a new key would make a second one.
 */
export async function createOrGone<Desired, Made>(
  external: { create(desired: Desired, idempotencyKey: string): Promise<Made> },
  desired: Desired,
  idempotencyKey: string,
  what: 'entity' | 'token',
): Promise<{ created: Made } | { gone: string }> {
  try {
    return { created: await external.create(desired, idempotencyKey) };
  } catch (err) {
    const problem = err instanceof IdempotencyGoneError ? err.problem : undefined;
    if (problem?.gone === what && typeof problem.id === 'string') return { gone: problem.id };
    throw err;
  }
}

/**
 * The handlers that several route groups share to the letter: an entity's
 * rows of one kind listed at once, the read and the DELETE of one object by
 * id. Each
 * plugin still declares its own routes (path, summary, schema) and says only
 * what differs: which storage call, what the change invalidates and announces.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { notFound } from '../../storage/problems.ts';
import type { Versioned } from '../../storage/rows.ts';
import type { Scope, Target } from '../../storage/scope.ts';
import type { Store } from '../../storage/store.ts';
import {
  type AuditInfo,
  type PlatformContext,
  requireWriter,
  scopeOf,
  setAudit,
} from '../context.ts';
import { type Mutation, mutate } from '../mutation.ts';

type ById = FastifyRequest<{ Params: { id: string } }>;

/** `GET /entities/:id/<kind>`: every row of the entity, unpaged, as `{ items }`. */
export function entityListHandler<T>(
  ctx: PlatformContext,
  list: (store: Store, scope: Scope, entityId: string) => Promise<T[]>,
) {
  return async (request: ById) => ({
    items: await list(ctx.store, scopeOf(request), request.params.id),
  });
}

/**
 * `GET /<kind>/:id`: the object in the caller's scope with its ETag, or 404
 * (an object outside the scope does not exist for the caller). `present`
 * adds what only this process knows.
 */
export function readHandler<T>(
  ctx: PlatformContext,
  noun: string,
  get: (store: Store, scope: Scope, id: string) => Promise<Versioned<T> | null>,
  present: (value: T) => T = (value) => value,
) {
  return async (request: ById, reply: FastifyReply) => {
    const found = await get(ctx.store, scopeOf(request), request.params.id);
    if (!found) throw notFound(noun, request.params.id);
    reply.header('etag', found.etag);
    return present(found.value);
  };
}

/** What a DELETE removes: its audit target type, the words of a viewer's refusal, the id's target. */
export type Deletable = {
  targetType: AuditInfo['targetType'];
  /** Completes "A viewer access key cannot …". */
  refused: string;
  target(id: string): Target;
};

/**
 * `DELETE /<kind>/:id`: audited as `<type>.delete` (an entity is its own
 * entity; the others learn theirs from the result), refused to viewers before
 * anything is read, one mutation, 204 without a body.
 */
export function deleteHandler<R>(
  ctx: PlatformContext,
  kind: Deletable,
  mutation: (scope: Scope, id: string) => Mutation<R>,
) {
  return async (request: ById, reply: FastifyReply) => {
    const { id } = request.params;
    setAudit(request, {
      action: `${kind.targetType}.delete`,
      targetType: kind.targetType,
      targetId: id,
      entityId: kind.targetType === 'entity' ? id : null,
    });
    const principal = await requireWriter(ctx, request, kind.refused, kind.target(id));
    await mutate(ctx, request, mutation(principal.scope, id));
    return reply.code(204).send(undefined as never);
  };
}

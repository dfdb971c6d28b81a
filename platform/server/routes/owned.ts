/**
 * The handlers that several route groups share to the letter: an entity's
 * rows of one kind listed at once, the create under a parent, and the read,
 * update and DELETE of one object by id. Each plugin still declares its own
 * routes (path, summary, schema, audit) and says only what differs: which
 * storage call, what the change invalidates and announces.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { Effects } from '../../storage/effects.ts';
import type { Idempotency, Idempotent } from '../../storage/idempotency.ts';
import { notFound } from '../../storage/problems.ts';
import type { Versioned } from '../../storage/rows.ts';
import type { Scope, Target } from '../../storage/scope.ts';
import type { Store } from '../../storage/store.ts';
import {
  ifMatchPredicate,
  type PlatformContext,
  type Principal,
  requireWriter,
  scopeOf,
  sendCreated,
} from '../context.ts';
import { type Mutation, mutate } from '../mutation.ts';
import { idempotencyOf } from './common.ts';

type ById = FastifyRequest<{ Params: { id: string } }>;
type WithBody<B> = FastifyRequest & { params: { id: string }; body: B };

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

/** Who may change an object: the words of a viewer's refusal, and the object the check looks up. */
export type Guarded<Of> = {
  /** Completes "A viewer access key cannot …". */
  refused: string;
  target(of: Of): Target | null;
  /** Whether the object is the caller's own, which a viewer may change too (a member's personal keys). */
  own?(principal: Principal, of: Of): boolean | Promise<boolean>;
};

/** The caller, once requireWriter let it make this change. */
function writer(ctx: PlatformContext, request: FastifyRequest, kind: Guarded<string>, id: string) {
  return requireWriter(
    ctx,
    request,
    kind.refused,
    kind.target(id),
    kind.own && ((principal) => kind.own?.(principal, id) ?? false),
  );
}

/** The storage call of a create under a parent (`/<parent kind>/:id/<kind>`), by the parent's id. */
export type CreateUnder<B, T> = (
  store: Store,
  scope: Scope,
  parentId: string,
  input: B,
  idem: Idempotency | undefined,
  effects: Effects<T>,
) => Promise<Idempotent<T>>;

/**
 * What a change does beside its write (mutation.ts): what its success event
 * adds, what it announces and counts. It makes no verification wrong unless it
 * says so: access keys, members and webhooks are read on each request, never cached.
 */
export type Consequences<R> = Omit<Mutation<R>, 'write' | 'invalidates'> &
  Partial<Pick<Mutation<R>, 'invalidates'>>;

function mutationOf<R>(write: Mutation<R>['write'], consequences: Consequences<R>): Mutation<R> {
  return { invalidates: () => [], ...consequences, write };
}

/**
 * `POST /<parent kind>/:id/<kind>` of a new object: refused to viewers before
 * anything is read, an optional `check` of the body (outside the transaction),
 * one idempotent `create`; 201, its Location, and the replay header on a
 * replay. The success event names the new object.
 */
export function createHandler<B, T extends { id: string }>(
  ctx: PlatformContext,
  kind: Guarded<string> & {
    /** The route's body schema (it types the request). */
    body: z.ZodType<B>;
    check?(body: B): Promise<void>;
    /** Where the new object is read, e.g. `/v1/webhooks/`. */
    location?: string;
  },
  create: CreateUnder<B, T>,
  consequences: Consequences<Idempotent<T>> = {},
) {
  return async (request: WithBody<B>, reply: FastifyReply) => {
    const parentId = request.params.id;
    const principal = await writer(ctx, request, kind, parentId);
    await kind.check?.(request.body);
    const idem = idempotencyOf(request, request.body);
    const { result, replayed } = await mutate(
      ctx,
      request,
      mutationOf(
        (effects) => create(ctx.store, principal.scope, parentId, request.body, idem, effects),
        {
          ...consequences,
          describe: (created) => ({ targetId: created.id, ...consequences.describe?.(created) }),
        },
      ),
    );
    if (kind.location) reply.header('location', `${kind.location}${result.id}`);
    return sendCreated(reply, result, replayed);
  };
}

/**
 * `PATCH /<kind>/:id`: refused to viewers before anything is read, If-Match
 * honoured, one mutation; `answer` gives the object (with its ETag when it
 * has one).
 */
export function updateHandler<B, R, T>(
  ctx: PlatformContext,
  kind: Guarded<string> & {
    /** The route's body schema (it types the request). */
    body: z.ZodType<B>;
  },
  mutation: (
    scope: Scope,
    request: WithBody<B>,
    ifMatch: ((etag: string) => boolean) | undefined,
  ) => Mutation<R>,
  answer: (result: R) => { value: T; etag?: string },
) {
  return async (request: WithBody<B>, reply: FastifyReply) => {
    const { id } = request.params;
    const principal = await writer(ctx, request, kind, id);
    const ifMatch = ifMatchPredicate(request.headers['if-match'] as string | undefined);
    const { value, etag } = answer(
      await mutate(ctx, request, mutation(principal.scope, request, ifMatch)),
    );
    if (etag) reply.header('etag', etag);
    return value;
  };
}

/**
 * `DELETE /<kind>/:id`: refused to viewers before anything is read, one
 * `remove`, 204 without a body. `consequences` know the id: a delete's result
 * may no longer name it.
 */
export function deleteHandler<R>(
  ctx: PlatformContext,
  kind: Guarded<string>,
  remove: (store: Store, scope: Scope, id: string, effects: Effects<R>) => Promise<R>,
  consequences: (id: string) => Consequences<R> = () => ({}),
) {
  return async (request: ById, reply: FastifyReply) => {
    const { id } = request.params;
    const principal = await writer(ctx, request, kind, id);
    await mutate(
      ctx,
      request,
      mutationOf((effects) => remove(ctx.store, principal.scope, id, effects), consequences(id)),
    );
    return reply.code(204).send(undefined as never);
  };
}

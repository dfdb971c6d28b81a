/** Entities: create (with the default token), list, read, update, delete. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  CreateEntityResponse,
  Entity,
  EntityListQuery,
  EntityPage,
  entityRequestsFor,
  IdParams,
} from '../../../core/schemas/index.ts';
import {
  createEntity,
  deleteEntity,
  getEntity,
  listEntities,
  updateEntity,
} from '../../storage/entities.ts';
import {
  ifMatchPredicate,
  type PlatformContext,
  requireWriter,
  scopeOf,
  sendCreated,
  setAudit,
} from '../context.ts';
import { mutate, tokenEvent } from '../mutation.ts';
import {
  Deleted,
  IdempotencyHeaders,
  IfMatchHeaders,
  idempotencyOf,
  managementRoute,
} from './common.ts';
import { deleteHandler, readHandler } from './owned.ts';

export const entityRoutes =
  (ctx: PlatformContext): FastifyPluginAsyncZod =>
  async (app) => {
    const requests = entityRequestsFor(ctx.tiers.names);
    app.post(
      '/entities',
      managementRoute('entities', 'Create an entity (and its default token)', {
        headers: IdempotencyHeaders,
        body: requests.create,
        response: { 201: CreateEntityResponse },
      }),
      async (request, reply) => {
        setAudit(request, {
          action: 'entity.create',
          targetType: 'entity',
          targetId: null,
          entityId: request.body.parentId ?? null,
        });
        const principal = await requireWriter(
          ctx,
          request,
          'create entities',
          request.body.parentId ? { entity: request.body.parentId } : null,
        );
        const { result, replayed } = await mutate(ctx, request, {
          write: (audit) =>
            createEntity(
              ctx.store,
              principal.scope,
              request.body,
              idempotencyOf(request, request.body),
              audit,
            ),
          describe: (entity) => ({ targetId: entity.id, entityId: entity.id }),
          invalidates: () => [],
          announces: (entity) =>
            entity.defaultToken ? [tokenEvent('token.created', entity.defaultToken)] : [],
          counts: (created) =>
            !created.replayed && created.result.defaultToken && ctx.metrics.tokensIssued.inc(),
        });
        reply.header('location', `/v1/entities/${result.id}`);
        return sendCreated(reply, result, replayed);
      },
    );

    app.get(
      '/entities',
      managementRoute('entities', 'List entities in your scope', {
        querystring: EntityListQuery,
        response: { 200: EntityPage },
      }),
      async (request) => listEntities(ctx.store, scopeOf(request), request.query),
    );

    app.get(
      '/entities/:id',
      managementRoute('entities', 'Read an entity', {
        params: IdParams,
        response: { 200: Entity },
      }),
      readHandler(ctx, 'entity', getEntity),
    );

    app.patch(
      '/entities/:id',
      managementRoute('entities', 'Rename an entity or change its tier (ceiling and quota apply)', {
        params: IdParams,
        headers: IfMatchHeaders,
        body: requests.update,
        response: { 200: Entity },
      }),
      async (request, reply) => {
        const { id } = request.params;
        setAudit(request, {
          action: 'entity.update',
          targetType: 'entity',
          targetId: id,
          entityId: id,
          detail: request.body.tier ? `tier=${request.body.tier}` : null,
        });
        const principal = await requireWriter(ctx, request, 'update entities', { entity: id });
        const { entity } = await mutate(ctx, request, {
          write: (audit) =>
            updateEntity(
              ctx.store,
              principal.scope,
              id,
              request.body,
              ifMatchPredicate(request.headers['if-match']),
              audit,
            ),
          // The tier decides what its tokens may read.
          invalidates: (r) => (r.tierChanged ? [{ entityId: id }] : []),
        });
        reply.header('etag', entity.etag);
        return entity.value;
      },
    );

    app.delete(
      '/entities/:id',
      managementRoute(
        'entities',
        'Delete an entity without children; its tokens stop verifying at once',
        {
          params: IdParams,
          response: { 204: Deleted },
        },
      ),
      deleteHandler(
        ctx,
        { targetType: 'entity', refused: 'delete entities', target: (id) => ({ entity: id }) },
        (scope, id) => ({
          write: (audit) => deleteEntity(ctx.store, scope, id, audit),
          invalidates: () => [{ entityId: id }],
          // The entity and its own webhooks are gone: its parent's chain hears of its tokens.
          announces: ({ tokens, parentId }) =>
            tokens.map((token) => ({ ...tokenEvent('token.deleted', token), via: parentId })),
          counts: ({ tokens }) =>
            tokens.length > 0 &&
            ctx.metrics.tokensRevoked.inc({ reason: 'entity-deleted' }, tokens.length),
        }),
      ),
    );
  };

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
import { type PlatformContext, requireWriter, scopeOf, sendCreated } from '../context.ts';
import { mutate, tokenEvent } from '../mutation.ts';
import {
  auditOfTarget,
  deleteRoute,
  IdempotencyHeaders,
  idempotencyOf,
  managementRoute,
  updateRoute,
} from './common.ts';
import { deleteHandler, readHandler, updateHandler } from './owned.ts';

export const entityRoutes =
  (ctx: PlatformContext): FastifyPluginAsyncZod =>
  async (app) => {
    const requests = entityRequestsFor(ctx.tiers.names);
    app.post(
      '/entities',
      managementRoute(
        'entities',
        'Create an entity (and its default token)',
        {
          headers: IdempotencyHeaders,
          body: requests.create,
          response: { 201: CreateEntityResponse },
        },
        // Its parent keeps the event; the new id comes from the result.
        (request) => ({
          action: 'entity.create',
          targetType: 'entity',
          targetId: null,
          entityId: request.body.parentId ?? null,
        }),
      ),
      async (request, reply) => {
        const principal = await requireWriter(
          ctx,
          request,
          'create entities',
          request.body.parentId ? { entity: request.body.parentId } : null,
        );
        const { result, replayed } = await mutate(ctx, request, {
          write: (effects) =>
            createEntity(
              ctx.store,
              principal.scope,
              request.body,
              idempotencyOf(request, request.body),
              effects,
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
      updateRoute(
        'entities',
        'Rename an entity or change its tier (ceiling and quota apply)',
        requests.update,
        Entity,
        auditOfTarget('entity.update', (body) => (body.tier ? `tier=${body.tier}` : null)),
      ),
      updateHandler(
        ctx,
        { body: requests.update, refused: 'update entities', target: (id) => ({ entity: id }) },
        (scope, request, ifMatch) => ({
          write: (effects) =>
            updateEntity(ctx.store, scope, request.params.id, request.body, ifMatch, effects),
          // The tier decides what its tokens may read.
          invalidates: (r) => (r.tierChanged ? [{ entityId: request.params.id }] : []),
        }),
        ({ entity }) => entity,
      ),
    );

    app.delete(
      '/entities/:id',
      deleteRoute(
        'entities',
        'Delete an entity without children; its tokens stop verifying at once',
        'entity.delete',
      ),
      deleteHandler(
        ctx,
        { refused: 'delete entities', target: (id) => ({ entity: id }) },
        deleteEntity,
        (id) => ({
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

/** Entities: create (with the default token), list, read, update, delete. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ProblemError } from '../../domain/problems.ts';
import {
  CreateEntityResponse,
  Entity,
  EntityListQuery,
  EntityPage,
  entityRequestsFor,
  IdParams,
} from '../../schemas/index.ts';
import {
  auditAsSet,
  auditInTransaction,
  ifMatchPredicate,
  type PlatformContext,
  requireWriter,
  scopeOf,
  sendCreated,
  setAudit,
} from '../context.ts';
import {
  Deleted,
  IdempotencyHeaders,
  IfMatchHeaders,
  idempotencyOf,
  managementRoute,
} from './common.ts';

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
        const { result, replayed } = await ctx.repo.createEntity(
          principal.scope,
          request.body,
          idempotencyOf(request, request.body),
          auditInTransaction(request, (result, replayed) => ({
            action: 'entity.create',
            targetType: 'entity',
            targetId: result.id,
            entityId: result.id,
            detail: replayed ? 'idempotent-replay' : null,
          })),
        );
        if (!replayed && result.defaultToken) ctx.metrics.tokensIssued.inc();
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
      async (request) => ctx.repo.listEntities(scopeOf(request), request.query),
    );

    app.get(
      '/entities/:id',
      managementRoute('entities', 'Read an entity', {
        params: IdParams,
        response: { 200: Entity },
      }),
      async (request, reply) => {
        const found = await ctx.repo.getEntity(scopeOf(request), request.params.id);
        if (!found) {
          throw new ProblemError(
            'not-found',
            `No entity with id ${request.params.id} exists in your scope.`,
          );
        }
        reply.header('etag', found.etag);
        return found.value;
      },
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
        const { entity, tierChanged } = await ctx.repo.updateEntity(
          principal.scope,
          id,
          request.body,
          ifMatchPredicate(request.headers['if-match']),
          auditAsSet(request),
        );
        if (tierChanged) ctx.verifier.invalidateEntity(id);
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
      async (request, reply) => {
        const { id } = request.params;
        setAudit(request, {
          action: 'entity.delete',
          targetType: 'entity',
          targetId: id,
          entityId: id,
        });
        const principal = await requireWriter(ctx, request, 'delete entities', { entity: id });
        const { tokens } = await ctx.repo.deleteEntity(principal.scope, id, auditAsSet(request));
        ctx.verifier.invalidateEntity(id);
        if (tokens > 0) ctx.metrics.tokensRevoked.inc({ reason: 'entity-deleted' }, tokens);
        return reply.code(204).send(undefined as never);
      },
    );
  };

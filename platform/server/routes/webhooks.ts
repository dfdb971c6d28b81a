/** Webhooks: subscribe an entity's subtree to lifecycle events, list, remove, read the delivery log. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  CreateWebhookRequest,
  DeliveryPage,
  DeliveryQuery,
  IdParams,
  WebhookList,
  WebhookWithSecret,
} from '../../../core/schemas/index.ts';
import {
  createWebhook,
  deleteWebhook,
  listDeliveries,
  listWebhooks,
} from '../../storage/webhooks.ts';
import { type PlatformContext, scopeOf } from '../context.ts';
import {
  auditOfTarget,
  auditUnderEntity,
  Deleted,
  IdempotencyHeaders,
  managementRoute,
} from './common.ts';
import { createHandler, deleteHandler, entityListHandler } from './owned.ts';

export const webhookRoutes =
  (ctx: PlatformContext): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/entities/:id/webhooks',
      managementRoute(
        'webhooks',
        'Subscribe to the events of this entity and its descendants; the response holds the signing secret',
        {
          params: IdParams,
          headers: IdempotencyHeaders,
          body: CreateWebhookRequest,
          response: { 201: WebhookWithSecret },
        },
        auditUnderEntity('webhook.create'),
      ),
      createHandler(
        ctx,
        {
          body: CreateWebhookRequest,
          refused: 'create webhooks',
          target: (request) => ({ entity: request.params.id }),
          check: (body) => ctx.webhookDestinations.check(body.url),
          location: '/v1/webhooks/',
        },
        (scope, request, idem) => ({
          write: (effects) =>
            createWebhook(ctx.store, scope, request.params.id, request.body, idem, effects),
          describe: (hook) => ({ detail: `events=${hook.events.join(',')}` }),
          invalidates: () => [],
        }),
      ),
    );

    app.get(
      '/entities/:id/webhooks',
      managementRoute('webhooks', "List an entity's webhooks (no secrets)", {
        params: IdParams,
        response: { 200: WebhookList },
      }),
      entityListHandler(ctx, listWebhooks),
    );

    app.delete(
      '/webhooks/:id',
      managementRoute(
        'webhooks',
        'Remove a webhook and its pending deliveries',
        { params: IdParams, response: { 204: Deleted } },
        auditOfTarget('webhook.delete'),
      ),
      deleteHandler(
        ctx,
        { refused: 'remove webhooks', target: (id) => ({ webhook: id }) },
        (scope, id) => ({
          write: (effects) => deleteWebhook(ctx.store, scope, id, effects),
          describe: (r) => ({ entityId: r.entityId }),
          invalidates: () => [],
        }),
      ),
    );

    app.get(
      '/webhooks/:id/deliveries',
      managementRoute('webhooks', "A webhook's delivery log, oldest first", {
        params: IdParams,
        querystring: DeliveryQuery,
        response: { 200: DeliveryPage },
      }),
      async (request) =>
        listDeliveries(ctx.store, scopeOf(request), request.params.id, request.query),
    );
  };

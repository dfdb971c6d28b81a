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
import { auditUnderEntity, createRoute, deleteRoute, managementRoute } from './common.ts';
import { createHandler, deleteHandler, entityListHandler } from './owned.ts';

export const webhookRoutes =
  (ctx: PlatformContext): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/entities/:id/webhooks',
      createRoute(
        'webhooks',
        'Subscribe to the events of this entity and its descendants; the response holds the signing secret',
        CreateWebhookRequest,
        WebhookWithSecret,
        auditUnderEntity('webhook.create'),
      ),
      createHandler(
        ctx,
        {
          body: CreateWebhookRequest,
          refused: 'create webhooks',
          target: (id) => ({ entity: id }),
          check: (body) => ctx.webhookDestinations.check(body.url),
          location: '/v1/webhooks/',
        },
        createWebhook,
        { describe: (hook) => ({ detail: `events=${hook.events.join(',')}` }) },
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
      deleteRoute('webhooks', 'Remove a webhook and its pending deliveries', 'webhook.delete'),
      deleteHandler(
        ctx,
        { refused: 'remove webhooks', target: (id) => ({ webhook: id }) },
        deleteWebhook,
        () => ({ describe: (r) => ({ entityId: r.entityId }) }),
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

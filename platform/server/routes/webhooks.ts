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
import { type PlatformContext, requireWriter, scopeOf, sendCreated, setAudit } from '../context.ts';
import { mutate } from '../mutation.ts';
import { Deleted, IdempotencyHeaders, idempotencyOf, managementRoute } from './common.ts';
import { deleteHandler, entityListHandler } from './owned.ts';

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
      ),
      async (request, reply) => {
        const entityId = request.params.id;
        setAudit(request, {
          action: 'webhook.create',
          targetType: 'webhook',
          targetId: null,
          entityId,
        });
        const principal = await requireWriter(ctx, request, 'create webhooks', {
          entity: entityId,
        });
        await ctx.webhookDestinations.check(request.body.url);
        const { result, replayed } = await mutate(ctx, request, {
          write: (audit) =>
            createWebhook(
              ctx.store,
              principal.scope,
              entityId,
              request.body,
              idempotencyOf(request, request.body),
              audit,
            ),
          describe: (hook) => ({ targetId: hook.id, detail: `events=${hook.events.join(',')}` }),
          invalidates: () => [],
        });
        reply.header('location', `/v1/webhooks/${result.id}`);
        return sendCreated(reply, result, replayed);
      },
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
      managementRoute('webhooks', 'Remove a webhook and its pending deliveries', {
        params: IdParams,
        response: { 204: Deleted },
      }),
      deleteHandler(
        ctx,
        { targetType: 'webhook', refused: 'remove webhooks', target: (id) => ({ webhook: id }) },
        (scope, id) => ({
          write: (audit) => deleteWebhook(ctx.store, scope, id, audit),
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

/** Access keys: credentials scoped to an entity's subtree, role admin or viewer. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  AccessKeyList,
  AccessKeyWithKey,
  CreateAccessKeyRequest,
  IdParams,
} from '../../schemas/index.ts';
import { createAccessKey, deleteAccessKey, listAccessKeys } from '../../storage/access-keys.ts';
import { type PlatformContext, requireWriter, scopeOf, sendCreated, setAudit } from '../context.ts';
import { mutate } from '../mutation.ts';
import { Deleted, IdempotencyHeaders, idempotencyOf, managementRoute } from './common.ts';

export const accessKeyRoutes =
  (ctx: PlatformContext): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/entities/:id/access-keys',
      managementRoute(
        'access-keys',
        "Create an access key for an entity's subtree; the response holds the key",
        {
          params: IdParams,
          headers: IdempotencyHeaders,
          body: CreateAccessKeyRequest,
          response: { 201: AccessKeyWithKey },
        },
      ),
      async (request, reply) => {
        const entityId = request.params.id;
        setAudit(request, {
          action: 'access-key.create',
          targetType: 'access-key',
          targetId: null,
          entityId,
          detail: `role=${request.body.role}`,
        });
        const principal = await requireWriter(ctx, request, 'create access keys', {
          entity: entityId,
        });
        const { result, replayed } = await mutate(ctx, request, {
          write: (audit) =>
            createAccessKey(
              ctx.store,
              principal.scope,
              entityId,
              request.body,
              idempotencyOf(request, request.body),
              audit,
            ),
          describe: (key) => ({ targetId: key.id }),
          // Access keys are looked up on each request, not cached.
          invalidates: () => [],
        });
        return sendCreated(reply, result, replayed);
      },
    );

    app.get(
      '/entities/:id/access-keys',
      managementRoute('access-keys', "List an entity's access keys (no keys)", {
        params: IdParams,
        response: { 200: AccessKeyList },
      }),
      async (request) => ({
        items: await listAccessKeys(ctx.store, scopeOf(request), request.params.id),
      }),
    );

    app.delete(
      '/access-keys/:id',
      managementRoute('access-keys', 'Delete an access key; it stops working at once', {
        params: IdParams,
        response: { 204: Deleted },
      }),
      async (request, reply) => {
        const { id } = request.params;
        setAudit(request, {
          action: 'access-key.delete',
          targetType: 'access-key',
          targetId: id,
          entityId: null,
        });
        const principal = await requireWriter(ctx, request, 'delete access keys', {
          accessKey: id,
        });
        await mutate(ctx, request, {
          write: (audit) => deleteAccessKey(ctx.store, principal.scope, id, audit),
          describe: (r) => ({ entityId: r.entityId }),
          invalidates: () => [],
        });
        return reply.code(204).send(undefined as never);
      },
    );
  };

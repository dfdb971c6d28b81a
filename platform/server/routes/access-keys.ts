/** Access keys: credentials scoped to an entity's subtree, role admin or viewer. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  AccessKeyList,
  AccessKeyWithKey,
  CreateAccessKeyRequest,
  IdParams,
} from '../../../core/schemas/index.ts';
import { createAccessKey, deleteAccessKey, listAccessKeys } from '../../storage/access-keys.ts';
import { type PlatformContext, requireWriter, sendCreated, setAudit } from '../context.ts';
import { mutate } from '../mutation.ts';
import { Deleted, IdempotencyHeaders, idempotencyOf, managementRoute } from './common.ts';
import { deleteHandler, entityListHandler } from './owned.ts';

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
      entityListHandler(ctx, listAccessKeys),
    );

    app.delete(
      '/access-keys/:id',
      managementRoute('access-keys', 'Delete an access key; it stops working at once', {
        params: IdParams,
        response: { 204: Deleted },
      }),
      deleteHandler(
        ctx,
        {
          targetType: 'access-key',
          refused: 'delete access keys',
          target: (id) => ({ accessKey: id }),
        },
        (scope, id) => ({
          write: (audit) => deleteAccessKey(ctx.store, scope, id, audit),
          describe: (r) => ({ entityId: r.entityId }),
          invalidates: () => [],
        }),
      ),
    );
  };

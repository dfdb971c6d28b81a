/** Access keys: credentials scoped to an entity's subtree, role admin or viewer. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  AccessKeyList,
  AccessKeyWithKey,
  CreateAccessKeyRequest,
  IdParams,
} from '../../../core/schemas/index.ts';
import { createAccessKey, deleteAccessKey, listAccessKeys } from '../../storage/access-keys.ts';
import type { PlatformContext } from '../context.ts';
import {
  auditOfTarget,
  auditUnderEntity,
  Deleted,
  IdempotencyHeaders,
  managementRoute,
} from './common.ts';
import { createHandler, deleteHandler, entityListHandler } from './owned.ts';

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
        auditUnderEntity('access-key.create', (body) => `role=${body.role}`),
      ),
      createHandler(
        ctx,
        {
          body: CreateAccessKeyRequest,
          refused: 'create access keys',
          target: (request) => ({ entity: request.params.id }),
        },
        (scope, request, idem) => ({
          write: (effects) =>
            createAccessKey(ctx.store, scope, request.params.id, request.body, idem, effects),
          // Access keys are looked up on each request, not cached.
          invalidates: () => [],
        }),
      ),
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
      managementRoute(
        'access-keys',
        'Delete an access key; it stops working at once',
        {
          params: IdParams,
          response: { 204: Deleted },
        },
        auditOfTarget('access-key.delete'),
      ),
      deleteHandler(
        ctx,
        { refused: 'delete access keys', target: (id) => ({ accessKey: id }) },
        (scope, id) => ({
          write: (effects) => deleteAccessKey(ctx.store, scope, id, effects),
          describe: (r) => ({ entityId: r.entityId }),
          invalidates: () => [],
        }),
      ),
    );
  };

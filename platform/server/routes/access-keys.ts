/** Access keys: credentials scoped to an entity's subtree, role admin or viewer. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  AccessKeyList,
  AccessKeyWithKey,
  CreateAccessKeyRequest,
  IdParams,
} from '../../../core/schemas/index.ts';
import {
  createAccessKey,
  deleteAccessKey,
  listAccessKeys,
  memberOfAccessKey,
} from '../../storage/access-keys.ts';
import type { PlatformContext } from '../context.ts';
import { auditUnderEntity, createRoute, deleteRoute, managementRoute } from './common.ts';
import { createHandler, deleteHandler, entityListHandler } from './owned.ts';

export const accessKeyRoutes =
  (ctx: PlatformContext): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/entities/:id/access-keys',
      createRoute(
        'access-keys',
        "Create an access key for an entity's subtree; the response holds the key",
        CreateAccessKeyRequest,
        AccessKeyWithKey,
        auditUnderEntity('access-key.create', (body) => `role=${body.role}`),
      ),
      createHandler(
        ctx,
        {
          body: CreateAccessKeyRequest,
          refused: 'create access keys',
          target: (id) => ({ entity: id }),
        },
        createAccessKey,
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
      deleteRoute(
        'access-keys',
        'Delete an access key; it stops working at once',
        'access-key.delete',
      ),
      deleteHandler(
        ctx,
        {
          refused: 'delete access keys',
          target: (id) => ({ accessKey: id }),
          // A member deletes its own personal keys whatever its role.
          own: async (principal, id) =>
            principal.type === 'member' &&
            (await memberOfAccessKey(ctx.store.db, id)) === principal.id,
        },
        deleteAccessKey,
        () => ({ describe: (r) => ({ entityId: r.entityId }) }),
      ),
    );
  };

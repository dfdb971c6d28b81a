/**
 * Members (SPEC §10): people, by email, acting as an access key of their role
 * on their entity's subtree. Managed under §2's governance, like access keys:
 * an admin credential of the entity or above it; every event names the email.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  AccessKeyList,
  AccessKeyWithKey,
  CreateAccessKeyRequest,
  CreateMemberRequest,
  IdParams,
  type Member,
  MemberListQuery,
  MemberPage,
  Member as MemberSchema,
  UpdateMemberRequest,
} from '../../../core/schemas/index.ts';
import { createPersonalAccessKey, listPersonalAccessKeys } from '../../storage/access-keys.ts';
import { createMember, deleteMember, listMembers, updateMember } from '../../storage/members.ts';
import { type PlatformContext, requireWriter, scopeOf, sendCreated, setAudit } from '../context.ts';
import { mutate } from '../mutation.ts';
import { Deleted, IdempotencyHeaders, idempotencyOf, managementRoute } from './common.ts';
import { deleteHandler } from './owned.ts';

/** What every member event says: whose membership, with which role. */
function named(member: Member) {
  return { entityId: member.entityId, detail: `email=${member.email} role=${member.role}` };
}

export const memberRoutes =
  (ctx: PlatformContext): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/entities/:id/members',
      managementRoute('members', 'Add a person, by email, with a role on the entity', {
        params: IdParams,
        headers: IdempotencyHeaders,
        body: CreateMemberRequest,
        response: { 201: MemberSchema },
      }),
      async (request, reply) => {
        const entityId = request.params.id;
        setAudit(request, {
          action: 'member.create',
          targetType: 'member',
          targetId: null,
          entityId,
          detail: `email=${request.body.email} role=${request.body.role}`,
        });
        const principal = await requireWriter(ctx, request, 'add members', { entity: entityId });
        const { result, replayed } = await mutate(ctx, request, {
          write: (audit) =>
            createMember(
              ctx.store,
              principal.scope,
              entityId,
              request.body,
              idempotencyOf(request, request.body),
              audit,
            ),
          describe: (member) => ({ targetId: member.id }),
          invalidates: () => [],
        });
        return sendCreated(reply, result, replayed);
      },
    );

    app.get(
      '/entities/:id/members',
      managementRoute('members', "List an entity's members", {
        params: IdParams,
        querystring: MemberListQuery,
        response: { 200: MemberPage },
      }),
      async (request) => listMembers(ctx.store, scopeOf(request), request.params.id, request.query),
    );

    app.patch(
      '/members/:id',
      managementRoute('members', "Change a member's role", {
        params: IdParams,
        body: UpdateMemberRequest,
        response: { 200: MemberSchema },
      }),
      async (request) => {
        const { id } = request.params;
        setAudit(request, {
          action: 'member.update',
          targetType: 'member',
          targetId: id,
          entityId: null,
          detail: `role=${request.body.role}`,
        });
        const principal = await requireWriter(ctx, request, 'change members', { member: id });
        return mutate(ctx, request, {
          write: (audit) => updateMember(ctx.store, principal.scope, id, request.body.role, audit),
          describe: named,
          // Personal access keys are checked against the member's role on each request.
          invalidates: () => [],
        });
      },
    );

    app.delete(
      '/members/:id',
      managementRoute('members', 'Remove a member; its personal access keys stop at once', {
        params: IdParams,
        response: { 204: Deleted },
      }),
      deleteHandler(
        ctx,
        { targetType: 'member', refused: 'remove members', target: (id) => ({ member: id }) },
        (scope, id) => ({
          write: (audit) => deleteMember(ctx.store, scope, id, audit),
          describe: named,
          invalidates: () => [],
        }),
      ),
    );

    app.post(
      '/members/:id/access-keys',
      managementRoute(
        'members',
        "Create a member's personal access key (at most its role; it ends with the membership)",
        {
          params: IdParams,
          headers: IdempotencyHeaders,
          body: CreateAccessKeyRequest,
          response: { 201: AccessKeyWithKey },
        },
      ),
      async (request, reply) => {
        const memberId = request.params.id;
        setAudit(request, {
          action: 'access-key.create',
          targetType: 'access-key',
          targetId: null,
          entityId: null,
          detail: `role=${request.body.role} member=${memberId}`,
        });
        const principal = await requireWriter(ctx, request, 'create access keys', {
          member: memberId,
        });
        const { result, replayed } = await mutate(ctx, request, {
          write: (audit) =>
            createPersonalAccessKey(
              ctx.store,
              principal.scope,
              memberId,
              request.body,
              idempotencyOf(request, request.body),
              audit,
            ),
          describe: (key) => ({ targetId: key.id, entityId: key.entityId }),
          invalidates: () => [],
        });
        return sendCreated(reply, result, replayed);
      },
    );

    app.get(
      '/members/:id/access-keys',
      managementRoute('members', "List a member's personal access keys (no keys)", {
        params: IdParams,
        response: { 200: AccessKeyList },
      }),
      async (request) => ({
        items: await listPersonalAccessKeys(ctx.store, scopeOf(request), request.params.id),
      }),
    );
  };

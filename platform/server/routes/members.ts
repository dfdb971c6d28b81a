/**
 * Members (README "Members and single sign-on"): people, by email, acting as an access key of their role
 * on their entity's subtree. Managed under the access keys' governance, like access keys:
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
import { type PlatformContext, scopeOf } from '../context.ts';
import {
  auditOfTarget,
  auditUnderEntity,
  createRoute,
  deleteRoute,
  managementRoute,
} from './common.ts';
import { createHandler, deleteHandler, updateHandler } from './owned.ts';

/** What every member event says: whose membership, with which role. */
function named(member: Member) {
  return { entityId: member.entityId, detail: `email=${member.email} role=${member.role}` };
}

export const memberRoutes =
  (ctx: PlatformContext): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/entities/:id/members',
      createRoute(
        'members',
        'Add a person, by email, with a role on the entity',
        CreateMemberRequest,
        MemberSchema,
        auditUnderEntity('member.create', (body) => `email=${body.email} role=${body.role}`),
      ),
      createHandler(
        ctx,
        { body: CreateMemberRequest, refused: 'add members', target: (id) => ({ entity: id }) },
        createMember,
      ),
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
      managementRoute(
        'members',
        "Change a member's role",
        { params: IdParams, body: UpdateMemberRequest, response: { 200: MemberSchema } },
        auditOfTarget('member.update', (body) => `role=${body.role}`),
      ),
      updateHandler(
        ctx,
        {
          body: UpdateMemberRequest,
          refused: 'change members',
          target: (id) => ({ member: id }),
        },
        (scope, request) => ({
          write: (effects) =>
            updateMember(ctx.store, scope, request.params.id, request.body.role, effects),
          describe: named,
          // Personal access keys are checked against the member's role on each request.
          invalidates: () => [],
        }),
        (member) => ({ value: member }),
      ),
    );

    app.delete(
      '/members/:id',
      deleteRoute(
        'members',
        'Remove a member; its personal access keys stop at once',
        'member.delete',
      ),
      deleteHandler(
        ctx,
        { refused: 'remove members', target: (id) => ({ member: id }) },
        deleteMember,
        () => ({ describe: named }),
      ),
    );

    app.post(
      '/members/:id/access-keys',
      createRoute(
        'members',
        "Create a member's personal access key (at most its role; it ends with the membership)",
        CreateAccessKeyRequest,
        AccessKeyWithKey,
        // The member's entity is known from the result (or, refused, not at all).
        (request) => ({
          action: 'access-key.create',
          targetType: 'access-key',
          targetId: null,
          entityId: null,
          detail: `role=${request.body.role} member=${request.params.id}`,
        }),
      ),
      createHandler(
        ctx,
        {
          body: CreateAccessKeyRequest,
          refused: 'create access keys',
          target: (id) => ({ member: id }),
          // A member creates its own keys whatever its role (they are capped at it).
          own: (principal, memberId) => principal.type === 'member' && principal.id === memberId,
        },
        createPersonalAccessKey,
        { describe: (key) => ({ entityId: key.entityId }) },
      ),
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

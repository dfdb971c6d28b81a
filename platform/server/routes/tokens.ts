/** Tokens: issue, list, read, edit, remove, reveal, rotate, introspect. */
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PERMISSION_FIELDS, usageWindow } from '../../../core/domain/permissions.ts';
import { validationProblem } from '../../../core/domain/problems.ts';
import {
  CreateTokenRequest,
  IdParams,
  IntrospectRequest,
  IntrospectResponse,
  RevealResponse,
  RotateTokenRequest,
  Token,
  TokenListQuery,
  TokenPage,
  TokenWithValue,
  UpdateTokenRequest,
} from '../../../core/schemas/index.ts';
import { getEntity } from '../../storage/entities.ts';
import {
  createToken,
  deleteToken,
  getToken,
  listTokens,
  revealToken,
  rotateToken,
  updateToken,
} from '../../storage/tokens.ts';
import { type PlatformContext, principalOf, requireWriter, scopeOf } from '../context.ts';
import { mutate, tokenEvent } from '../mutation.ts';
import {
  auditOfTarget,
  auditUnderEntity,
  createRoute,
  deleteRoute,
  IdempotencyHeaders,
  idempotencyOf,
  managementRoute,
  plainJson,
  updateRoute,
} from './common.ts';
import { createHandler, deleteHandler, readHandler, updateHandler } from './owned.ts';

/** The permission fields of a token as audit detail (never a value: these are settings). */
function permissionText(token: Token, fields: readonly (keyof Token)[]): string {
  return fields.map((f) => `${f}=${JSON.stringify(token[f])}`).join(' ');
}

function permissionSummary(token: Token): string {
  return permissionText(token, PERMISSION_FIELDS);
}

/** What a PATCH changed, for the audit trail: the status and every permission field that changed. */
function updateSummary(
  status: string | undefined,
  changed: readonly (keyof Token)[],
  token: Token,
): string | null {
  const parts = [
    ...(status ? [`status=${status}`] : []),
    ...(changed.length > 0 ? [`permissions: ${permissionText(token, changed)}`] : []),
  ];
  return parts.length > 0 ? parts.join('; ') : null;
}

export const tokenRoutes =
  (ctx: PlatformContext): FastifyPluginAsyncZod =>
  async (app) => {
    /** Overlay a use (lastUsedAt, usage) recorded in this process's memory and not yet written. */
    const withLastUsed = <T extends Token>(token: T): T => {
      const pending = ctx.verifier.pendingLastUsed(token.id);
      let out = token;
      if (pending && (token.lastUsedAt === null || token.lastUsedAt < pending)) {
        out = { ...out, lastUsedAt: pending };
      }
      if (token.usage) {
        const period = usageWindow(token.usage.period, ctx.clock()).key;
        const used = ctx.usage.pendingUsed(token.id, period);
        if (used > 0) out = { ...out, usage: { ...token.usage, used: token.usage.used + used } };
      }
      return out;
    };

    app.get(
      '/entities/:id/tokens',
      managementRoute('tokens', "List an entity's tokens (no values)", {
        params: IdParams,
        querystring: TokenListQuery,
        response: { 200: TokenPage },
      }),
      async (request) => {
        const page = await listTokens(
          ctx.store,
          scopeOf(request),
          request.params.id,
          request.query,
        );
        return { ...page, items: page.items.map(withLastUsed) };
      },
    );

    app.post(
      '/entities/:id/tokens',
      createRoute(
        'tokens',
        'Issue a token (quota applies); the response holds its value',
        CreateTokenRequest,
        TokenWithValue,
        auditUnderEntity('token.create'),
      ),
      createHandler(
        ctx,
        {
          body: CreateTokenRequest,
          refused: 'issue tokens',
          target: (id) => ({ entity: id }),
          location: '/v1/tokens/',
        },
        createToken,
        {
          describe: (token) => ({ detail: permissionSummary(token) }),
          announces: (token) => [tokenEvent('token.created', token)],
          counts: (created) => !created.replayed && ctx.metrics.tokensIssued.inc(),
        },
      ),
    );

    app.get(
      '/tokens/:id',
      managementRoute('tokens', 'Read a token (no value)', {
        params: IdParams,
        response: { 200: Token },
      }),
      readHandler(ctx, 'token', getToken, withLastUsed),
    );

    app.patch(
      '/tokens/:id',
      updateRoute(
        'tokens',
        'Edit a token: name, expiry, status and its permissions and limits (not its type). A token disabled by a leak report cannot be set active (409 token-exposed): rotate it',
        UpdateTokenRequest,
        Token,
        auditOfTarget('token.update', (body) => (body.status ? `status=${body.status}` : null)),
      ),
      updateHandler(
        ctx,
        { body: UpdateTokenRequest, refused: 'edit tokens', target: (id) => ({ token: id }) },
        (scope, request, ifMatch) => ({
          write: (effects) =>
            updateToken(ctx.store, scope, request.params.id, request.body, ifMatch, effects),
          describe: (r) => ({
            entityId: r.token.value.entityId,
            detail: updateSummary(request.body.status, r.permissionsChanged, r.token.value),
          }),
          // A PATCH that changed nothing has nothing to announce.
          invalidates: (r) => (r.changed ? [{ tokenId: r.token.value.id, usage: true }] : []),
          announces: (r) => (r.changed ? [tokenEvent('token.updated', r.token.value)] : []),
          counts: (r) => r.disabled && ctx.metrics.tokensRevoked.inc({ reason: 'disabled' }),
        }),
        ({ token }) => ({ value: withLastUsed(token.value), etag: token.etag }),
      ),
    );

    app.delete(
      '/tokens/:id',
      deleteRoute('tokens', 'Remove a token; it stops verifying at once', 'token.delete'),
      deleteHandler(
        ctx,
        { refused: 'remove tokens', target: (id) => ({ token: id }) },
        deleteToken,
        (id) => ({
          describe: (r) => ({ entityId: r.token.entityId }),
          invalidates: () => [{ tokenId: id, usage: true }],
          announces: (r) => [tokenEvent('token.deleted', r.token)],
          counts: () => ctx.metrics.tokensRevoked.inc({ reason: 'deleted' }),
        }),
      ),
    );

    app.post(
      '/tokens/:id/reveal',
      managementRoute(
        'tokens',
        "Reveal a token's value again",
        {
          params: IdParams,
          body: z.strictObject({}).optional(),
          response: { 200: RevealResponse },
        },
        auditOfTarget('token.reveal'),
      ),
      async (request) => {
        const { id } = request.params;
        const principal = await requireWriter(ctx, request, 'reveal token values', { token: id });
        const { value } = await mutate(ctx, request, {
          write: (effects) => revealToken(ctx.store, principal.scope, id, effects),
          describe: ({ entityId }) => ({ entityId }),
          invalidates: () => [],
        });
        return { value };
      },
    );

    app.post(
      '/tokens/:id/rotate',
      managementRoute(
        'tokens',
        'Rotate: a new value, same id, and the token enabled if a leak report disabled it; the old value verifies for the grace period (none for a value reported exposed), earlier replaced values until their own graces end',
        {
          params: IdParams,
          headers: IdempotencyHeaders,
          body: RotateTokenRequest.optional(),
          response: { 200: TokenWithValue },
        },
        auditOfTarget('token.rotate'),
      ),
      async (request, reply) => {
        const { id } = request.params;
        const body = request.body ?? {};
        const principal = await requireWriter(ctx, request, 'rotate tokens', { token: id });
        const { result, replayed } = await mutate(ctx, request, {
          write: (effects) =>
            rotateToken(
              ctx.store,
              principal.scope,
              id,
              body.gracePeriodSeconds ?? 0,
              idempotencyOf(request, body),
              effects,
            ),
          describe: (token) => ({
            entityId: token.entityId,
            detail: `gracePeriodSeconds=${body.gracePeriodSeconds ?? 0}`,
          }),
          invalidates: () => [{ tokenId: id }],
          announces: (token) => [tokenEvent('token.rotated', token)],
          counts: (rotated) => !rotated.replayed && ctx.metrics.tokensRotated.inc(),
        });
        if (replayed) reply.header('idempotent-replayed', 'true');
        return result;
      },
    );

    // Its own scope: RFC 7662 clients send a form body, which no other route takes.
    app.register(introspection(ctx));
  };

/**
 * RFC 7662 §2.1's form body: `token` and `token_type_hint`, checked by the
 * same schema as JSON (another parameter is an unknown field, as the OpenAPI
 * document says); a parameter sent twice is refused (RFC 6749 §3.1).
 */
function introspectionForm(
  _request: FastifyRequest,
  body: string | Buffer,
  done: (err: Error | null, value?: unknown) => void,
): void {
  const form: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(String(body))) {
    if (name in form) {
      done(validationProblem([{ path: name, message: 'sent more than once' }]));
      return;
    }
    form[name] = value;
  }
  done(null, form);
}

const introspection =
  (ctx: PlatformContext): FastifyPluginAsyncZod =>
  async (app) => {
    app.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string' },
      introspectionForm,
    );
    app.post(
      '/introspect',
      {
        ...managementRoute(
          'tokens',
          "RFC 7662 introspection of an API token (JSON, or the RFC's form body)",
          {
            consumes: ['application/json', 'application/x-www-form-urlencoded'],
            body: IntrospectRequest,
            response: { 200: IntrospectResponse },
          },
        ),
        serializerCompiler: plainJson,
      },
      async (request) => {
        const principal = principalOf(request);
        const token = await ctx.verifier.verify(request.body.token, false);
        if (!token) return { active: false as const };
        if (principal.scope !== null) {
          const visible = await getEntity(ctx.store, principal.scope, token.entityId);
          if (!visible) return { active: false as const };
        }
        return {
          active: true as const,
          tokenId: token.tokenId,
          entityId: token.entityId,
          tier: token.tier,
          exp: token.exp,
          type: token.policy.type,
          scope: token.policy.scope,
          allowedOrigins: token.policy.allowedOrigins,
          allowedIps: token.policy.allowedIps,
        };
      },
    );
  };

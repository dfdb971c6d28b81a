/**
 * The console's pages (GET): sign-in, the entity list, an entity with its
 * tokens, its audit log. Each reads through the client with the session's key.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isNotFound, type TokenplaneClient, UnauthorizedError } from '../../core/client/index.ts';
import { SCOPE_PREMIUM } from '../../core/domain/permissions.ts';
import { checkScopeCeiling } from '../../core/domain/rules.ts';
import { type Html, html } from './html.ts';
import type { ConsoleKit } from './index.ts';
import type { Flash, Session } from './sessions.ts';
import { tierChoices } from './tiers.ts';
import { auditMain } from './views/audit.ts';
import { editTokenDialog, removeDialog, rotateDialog } from './views/dialogs.ts';
import { entityMain } from './views/entity.ts';
import { homeMain } from './views/home.ts';
import { page } from './views/layout.ts';
import { accessKeysMain, membersMain } from './views/members.ts';
import { entityNav } from './views/nav.ts';
import { signInPage } from './views/sign-in.ts';

const NAV_PAGE_SIZE = 50;
const AUDIT_PAGE_SIZE = 50;

type ListQuery = { search?: string; cursor?: string };

/** A query parameter as one short string ('' when absent or repeated). */
function param(query: unknown, name: string): string {
  const value = (query as Record<string, unknown>)[name];
  return typeof value === 'string' ? value.slice(0, 200) : '';
}

export function pageRoutes(kit: ConsoleKit) {
  return async (app: FastifyInstance) => {
    /** Renders a signed-in page, or sends the browser to sign in. */
    async function signedIn(
      request: FastifyRequest,
      reply: FastifyReply,
      render: (session: Session, client: TokenplaneClient) => Promise<Html | undefined>,
    ) {
      const session = await kit.sessionOf(request);
      if (!session) return toSignIn(request, reply);
      try {
        const body = await render(session, kit.clientFor(session.credential));
        if (body === undefined) return reply;
        return reply.type('text/html; charset=utf-8').send(body.text);
      } catch (error) {
        if (error instanceof UnauthorizedError) {
          kit.sessions.endAllOf(session.credential);
          return toSignIn(request, reply);
        }
        throw error;
      }
    }

    function toSignIn(request: FastifyRequest, reply: FastifyReply) {
      const hadCookie = Object.keys(request.cookies).some((c) => c.endsWith('tokenplane_session'));
      kit.endSession(request, reply);
      return reply.redirect(hadCookie ? '/console/sign-in?ended=1' : '/console/sign-in', 303);
    }

    function frame(session: Session, title: string, nav: Html | undefined) {
      const flash = session.flash;
      session.flash = [];
      return {
        title,
        assets: kit.assets,
        session: {
          label: session.label,
          csrf: session.csrf,
          member: session.principal.type === 'member',
        },
        flash,
        nav,
      };
    }

    async function nav(client: TokenplaneClient, q: ListQuery, path: string, currentId?: string) {
      const search = q.search ?? '';
      const cursor = q.cursor ?? '';
      const list = await client.listEntities({
        limit: NAV_PAGE_SIZE,
        ...(search ? { search } : {}),
        ...(cursor ? { cursor } : {}),
      });
      return entityNav({ page: list, search, cursor, path, currentId });
    }

    app.get('/console/sign-in', async (request, reply) => {
      if (await kit.sessionOf(request)) return reply.redirect('/console/', 303);
      const flash: Flash[] = [];
      if (param(request.query, 'ended')) {
        flash.push({ kind: 'status', text: 'Your session ended. Sign in again to continue.' });
      }
      if (param(request.query, 'signed-out')) {
        flash.push({ kind: 'status', text: 'You signed out.' });
      }
      return reply
        .type('text/html; charset=utf-8')
        .send(signInPage(kit.assets, flash, kit.sso !== null).text);
    });

    app.get('/console/', (request, reply) =>
      signedIn(request, reply, async (session, client) => {
        const { principal } = session;
        if (principal.scope !== null) {
          reply.redirect(`/console/entities/${principal.scope}`, 303);
          return undefined;
        }
        const q = {
          search: param(request.query, 'search'),
          cursor: param(request.query, 'cursor'),
        };
        const choices = tierChoices(kit.ctx.tiers, { parent: null });
        return page(
          frame(session, 'Entities', await nav(client, q, '/console/')),
          homeMain(session.csrf, choices),
        );
      }),
    );

    app.get('/console/entities/:id', (request, reply) =>
      signedIn(request, reply, async (session, client) => {
        const { id } = request.params as { id: string };
        const q = {
          search: param(request.query, 'search'),
          cursor: param(request.query, 'cursor'),
        };
        const path = `/console/entities/${id}`;
        const [entity, tokens, list] = await Promise.all([
          orNull(client.getEntity(id)),
          orNull(client.listAllTokens(id)),
          nav(client, q, path, id),
        ]);
        if (!entity || !tokens) {
          reply.code(404);
          return page(frame(session, 'Not found', list), notFound());
        }
        const { principal } = session;
        const parent =
          entity.parentId && principal.scope !== entity.id
            ? await orNull(client.getEntity(entity.parentId))
            : null;
        return page(
          frame(session, entity.name, list),
          entityMain({
            entity,
            parent,
            tokens,
            csrf: session.csrf,
            canWrite: principal.role === 'admin',
            canGovern: principal.role === 'admin' && principal.scope !== entity.id,
            childTiers: tierChoices(kit.ctx.tiers, { parent: entity }),
            ownTiers: tierChoices(kit.ctx.tiers, {
              parent: parent && { name: parent.name, tier: parent.tier },
              entity,
            }),
          }),
        );
      }),
    );

    // The dialog of one token action, fetched by the page's script when chosen.
    app.get('/console/tokens/:id/dialogs/:kind', (request, reply) =>
      signedIn(request, reply, async (session, client) => {
        const { id, kind } = request.params as { id: string; kind: string };
        const token = await orNull(client.getToken(id));
        if (!token || !['edit', 'rotate', 'remove'].includes(kind)) {
          reply.code(404);
          return html`<p>This token no longer exists. Reload the page.</p>`;
        }
        if (kind === 'rotate') return rotateDialog(token, session.csrf);
        if (kind === 'remove') return removeDialog(token, session.csrf);
        const entity = await client.getEntity(token.entityId);
        const premium = checkScopeCeiling(kit.ctx.tiers, entity.tier, [SCOPE_PREMIUM]);
        return editTokenDialog(token, session.csrf, premium?.detail ?? null);
      }),
    );

    app.get('/console/entities/:id/members', (request, reply) =>
      signedIn(request, reply, async (session, client) => {
        const { id } = request.params as { id: string };
        const [entity, members, list] = await Promise.all([
          orNull(client.getEntity(id)),
          orNull(client.listAllMembers(id)),
          nav(client, {}, `/console/entities/${id}/members`, id),
        ]);
        if (!entity || !members) {
          reply.code(404);
          return page(frame(session, 'Not found', list), notFound());
        }
        return page(
          frame(session, `Members of ${entity.name}`, list),
          membersMain(entity, members, session.csrf, session.principal.role === 'admin'),
        );
      }),
    );

    app.get('/console/access-keys', (request, reply) =>
      signedIn(request, reply, async (session, client) => {
        const { principal } = session;
        if (principal.type !== 'member') {
          reply.code(404);
          return page(
            frame(session, 'Not found', undefined),
            html`<h1>Not found</h1>
<p>Personal access keys belong to people signed in with single sign-on.</p>`,
          );
        }
        const keys = await client.listPersonalAccessKeys(principal.id);
        return page(
          frame(session, 'Your access keys', undefined),
          accessKeysMain(principal, keys, session.csrf),
        );
      }),
    );

    app.get('/console/entities/:id/audit', (request, reply) =>
      signedIn(request, reply, async (session, client) => {
        const { id } = request.params as { id: string };
        const cursor = param(request.query, 'cursor');
        const [entity, events, list] = await Promise.all([
          orNull(client.getEntity(id)),
          orNull(
            client.listAuditEvents({
              entityId: id,
              limit: AUDIT_PAGE_SIZE,
              ...(cursor ? { cursor } : {}),
            }),
          ),
          nav(client, {}, `/console/entities/${id}/audit`, id),
        ]);
        if (!entity || !events) {
          reply.code(404);
          return page(frame(session, 'Not found', list), notFound());
        }
        return page(
          frame(session, `Audit log of ${entity.name}`, list),
          auditMain(entity, events, cursor),
        );
      }),
    );
  };
}

async function orNull<T>(promise: Promise<T>): Promise<T | null> {
  try {
    return await promise;
  } catch (error) {
    if (isNotFound(error)) return null;
    // An id that is not even a UUID is "no such entity" for a person, too.
    if (error instanceof Error && 'slug' in error && error.slug === 'validation') return null;
    throw error;
  }
}

function notFound(): Html {
  return html`<h1>Not found</h1>
<p>There is no such entity among those your key can see. Choose one from the list.</p>`;
}

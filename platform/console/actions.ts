/**
 * What the console's forms post: sign-in and sign-out, entity and token changes,
 * and the reveal that "Show token" and "Copy" fetch. Every change is checked
 * against forgery (same origin + the session's synchronizer token), made through
 * the client with the session's key, and answered with a redirect back to the
 * entity (post/redirect/get) carrying what happened: a status, a refusal of the
 * API as an alert, or a new token value to show once.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  type TokenplaneClient,
  TokenplaneConnectionError,
  TokenplaneError,
  UnauthorizedError,
  ValidationError,
} from '../../core/client/index.ts';
import { managementPrincipal } from '../server/auth.ts';
import type { RateLimitSetting } from '../server/permissions/rate-limiter.ts';
import { FormError, field, newTokenRequest, tokenChanges } from './forms.ts';
import type { ConsoleKit } from './index.ts';
import type { Flash, Session } from './sessions.ts';
import { providerSignOut } from './sso.ts';
import { signInPage } from './views/sign-in.ts';

/** Failed sign-ins allowed per client address (README "Console"): beyond them, 429 until the minute ends. */
export const SIGN_IN_ATTEMPTS: RateLimitSetting = { requests: 10, perSeconds: 60 };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Where to go back to: an entity page (ids only, so never an open redirect). */
function entityPage(id: string): string {
  return UUID.test(id) ? `/console/entities/${id}` : '/console/';
}

/** The message a person reads when the platform refuses: its problem detail, field by field. */
function refusal(error: unknown): string {
  if (error instanceof FormError) return error.message;
  if (error instanceof ValidationError && error.errors.length > 0) {
    const fields = error.errors.map((e) => `${e.path.replace(/^body\./, '')}: ${e.message}`);
    return `${error.detail ?? error.title} (${fields.join('; ')})`;
  }
  if (error instanceof TokenplaneError) return error.detail ?? error.title;
  if (error instanceof TokenplaneConnectionError) {
    return 'The platform did not answer in time. Nothing may have changed; reload and try again.';
  }
  throw error;
}

type Outcome = { back: string; flash?: Flash };

/** Back to the entity, with a new token value shown once. */
function showValue(
  token: { entityId: string; name: string; value: string },
  verb: string,
): Outcome {
  return {
    back: entityPage(token.entityId),
    flash: { kind: 'value', title: `Token "${token.name}" ${verb}`, value: token.value },
  };
}

/** The members page of an entity. */
function membersPage(id: string): string {
  return UUID.test(id) ? `/console/entities/${id}/members` : '/console/';
}

/** The member a session acts as; other credentials have no personal keys. */
function memberOf(session: Session): string {
  if (session.principal.type !== 'member') {
    throw new FormError('Personal access keys belong to people signed in with single sign-on.');
  }
  return session.principal.id;
}

/** Back to the entity, saying what happened. */
function told(entityId: string, text: string): Outcome {
  return { back: entityPage(entityId), flash: { kind: 'status', text } };
}

export function actionRoutes(kit: ConsoleKit) {
  return async (app: FastifyInstance) => {
    /**
     * A state-changing form post: signed in, not forged, then `run`; a refusal of
     * the API becomes an alert on the page it goes back to.
     */
    function action(
      back: (request: FastifyRequest) => string,
      run: (
        client: TokenplaneClient,
        form: unknown,
        request: FastifyRequest,
        session: Session,
      ) => Promise<Outcome>,
    ) {
      return async (request: FastifyRequest, reply: FastifyReply) => {
        const session = await kit.sessionOf(request);
        if (!session) return reply.redirect('/console/sign-in?ended=1', 303);
        if (!kit.checkForgery(request, session, field(request.body, '_csrf'))) {
          return forged(reply);
        }
        let outcome: Outcome;
        try {
          outcome = await run(kit.clientFor(session.credential), request.body, request, session);
        } catch (error) {
          if (error instanceof UnauthorizedError) return signedOut(request, reply, session);
          outcome = { back: back(request), flash: { kind: 'alert', text: refusal(error) } };
        }
        if (outcome.flash) session.flash.push(outcome.flash);
        return reply.redirect(outcome.back, 303);
      };
    }

    function signedOut(request: FastifyRequest, reply: FastifyReply, session: Session) {
      kit.sessions.endAllOf(session.credential);
      kit.endSession(request, reply);
      return reply.redirect('/console/sign-in?ended=1', 303);
    }

    function forged(reply: FastifyReply) {
      return reply
        .code(403)
        .type('text/plain; charset=utf-8')
        .send(
          'Refused: this request did not come from a page of this console (cross-site request forgery protection). Reload the console and try again.',
        );
    }

    const paramId = (request: FastifyRequest) => (request.params as { id: string }).id;
    const backToEntity = (request: FastifyRequest) => entityPage(paramId(request));
    const backToOwner = (request: FastifyRequest) => entityPage(field(request.body, 'entityId'));

    function signInRefused(reply: FastifyReply, status: number, text: string) {
      return reply
        .code(status)
        .type('text/html; charset=utf-8')
        .send(signInPage(kit.assets, [{ kind: 'alert', text }], kit.sso !== null).text);
    }

    app.post('/console/sign-in', async (request, reply) => {
      if (!kit.sameOrigin(request)) return forged(reply);
      // Counted before the key is checked, so concurrent guesses cannot all slip under
      // the limit; a successful sign-in gives its attempt back. request.ip is the
      // client address of README "Token permissions and limits" (X-Forwarded-For only from a trusted proxy).
      const attempt = kit.signInAttempts.take(request.ip, SIGN_IN_ATTEMPTS);
      if (!attempt.allowed) {
        reply.header('retry-after', String(attempt.resetSeconds));
        return signInRefused(
          reply,
          429,
          `Too many failed sign-in attempts from your address. Wait ${attempt.resetSeconds} seconds, then try again.`,
        );
      }
      const key = field(request.body, 'key');
      const principal = key ? await managementPrincipal(kit.ctx, key) : null;
      if (!principal) {
        return signInRefused(
          reply,
          401,
          'That is not a valid administrator key or access key. Check it and try again.',
        );
      }
      kit.signInAttempts.giveBack(request.ip);
      kit.endSession(request, reply);
      const label =
        principal.scope === null
          ? 'the administrator key'
          : `an access key (${principal.role}) of "${(await kit.clientFor(key).getEntity(principal.scope)).name}"`;
      const { id } = kit.sessions.create(key, principal, label);
      kit.startSession(reply, request, { id });
      return reply.redirect('/console/', 303);
    });

    app.post('/console/sign-out', async (request, reply) => {
      const session = await kit.sessionOf(request);
      if (session && !kit.checkForgery(request, session, field(request.body, '_csrf'))) {
        return forged(reply);
      }
      kit.endSession(request, reply);
      const signedOutUrl = `${kit.origin(request)}/console/sign-in?signed-out=1`;
      // Signed in by single sign-on: end the provider's session too, when it offers that.
      const atProvider =
        session?.idToken && kit.sso
          ? await providerSignOut(kit.sso, session.idToken, signedOutUrl).catch(() => null)
          : null;
      return reply.redirect(atProvider ?? '/console/sign-in?signed-out=1', 303);
    });

    app.post(
      '/console/entities',
      action(
        (request) => entityPage(field(request.body, 'parentId')),
        async (client, form) => {
          const parentId = field(form, 'parentId');
          const created = await client.createEntity(
            {
              name: field(form, 'name'),
              kind: field(form, 'kind') as 'reseller' | 'customer',
              tier: field(form, 'tier'),
              ...(parentId ? { parentId } : {}),
            },
            { idempotencyKey: field(form, 'idempotencyKey') },
          );
          const token = created.defaultToken;
          return {
            back: entityPage(created.id),
            flash: token
              ? {
                  kind: 'value',
                  title: `Entity "${created.name}" created, with its token "${token.name}"`,
                  value: token.value,
                }
              : { kind: 'status', text: `Entity "${created.name}" created.` },
          };
        },
      ),
    );

    app.post(
      '/console/entities/:id',
      action(backToEntity, async (client, form, request) => {
        const name = field(form, 'name');
        const tier = field(form, 'tier');
        const current = await client.getEntity(paramId(request));
        const entity = await client.updateEntity(current.id, {
          ...(name !== current.name ? { name } : {}),
          ...(tier && tier !== current.tier ? { tier } : {}),
        });
        return told(entity.id, `Entity "${entity.name}" saved.`);
      }),
    );

    app.post(
      '/console/entities/:id/tokens',
      action(backToEntity, async (client, form, request) => {
        const token = await client.createToken(paramId(request), newTokenRequest(form), {
          idempotencyKey: field(form, 'idempotencyKey'),
        });
        return showValue(token, 'created');
      }),
    );

    app.post(
      '/console/tokens/:id',
      action(backToOwner, async (client, form, request) => {
        const current = await client.getToken(paramId(request));
        const token = await client.updateToken(current.id, tokenChanges(current, form));
        return told(token.entityId, `Token "${token.name}" saved.`);
      }),
    );

    app.post(
      '/console/tokens/:id/rotate',
      action(backToOwner, async (client, form, request) => {
        const grace = Number(field(form, 'gracePeriodSeconds') || '0');
        const token = await client.rotateToken(
          paramId(request),
          { gracePeriodSeconds: grace },
          { idempotencyKey: field(form, 'idempotencyKey') },
        );
        return showValue(token, 'rotated');
      }),
    );

    app.post(
      '/console/tokens/:id/remove',
      action(backToOwner, async (client, _form, request) => {
        const token = await client.getToken(paramId(request));
        await client.deleteToken(token.id);
        return told(token.entityId, `Token "${token.name}" removed.`);
      }),
    );

    const backToMembers = (request: FastifyRequest) => membersPage(paramId(request));
    const backToOwnersMembers = (request: FastifyRequest) =>
      membersPage(field(request.body, 'entityId'));
    const said = (back: string, text: string): Outcome => ({
      back,
      flash: { kind: 'status', text },
    });

    app.post(
      '/console/entities/:id/members',
      action(backToMembers, async (client, form, request) => {
        const member = await client.createMember(paramId(request), {
          email: field(form, 'email'),
          role: field(form, 'role') as 'admin' | 'viewer',
        });
        return said(backToMembers(request), `${member.email} added as ${member.role}.`);
      }),
    );

    app.post(
      '/console/members/:id',
      action(backToOwnersMembers, async (client, form, request) => {
        const member = await client.updateMember(paramId(request), {
          role: field(form, 'role') as 'admin' | 'viewer',
        });
        return said(membersPage(member.entityId), `${member.email} is now ${member.role}.`);
      }),
    );

    app.post(
      '/console/members/:id/remove',
      action(backToOwnersMembers, async (client, _form, request) => {
        await client.deleteMember(paramId(request));
        return said(
          backToOwnersMembers(request),
          'Member removed; their sessions and keys stopped.',
        );
      }),
    );

    app.post(
      '/console/access-keys',
      action(
        () => '/console/access-keys',
        async (client, form, _request, session) => {
          const key = await client.createPersonalAccessKey(memberOf(session), {
            name: field(form, 'name'),
            role: field(form, 'role') as 'admin' | 'viewer',
          });
          return {
            back: '/console/access-keys',
            flash: { kind: 'value', title: `Access key "${key.name}" created`, value: key.key },
          };
        },
      ),
    );

    app.post(
      '/console/access-keys/:id/remove',
      action(
        () => '/console/access-keys',
        async (client, _form, request) => {
          await client.deleteAccessKey(paramId(request));
          return said('/console/access-keys', 'Access key deleted; it stopped working.');
        },
      ),
    );

    // "Show token" and "Copy" fetch the value only when asked; nothing keeps it.
    app.post('/console/tokens/:id/reveal', async (request, reply) => {
      const session = await kit.sessionOf(request);
      if (!session) return reply.code(401).send({ message: 'Your session ended. Sign in again.' });
      if (!kit.checkForgery(request, session, request.headers['x-csrf-token'])) {
        return reply.code(403).send({ message: 'Refused: not sent by a page of this console.' });
      }
      try {
        const value = await kit.clientFor(session.credential).revealToken(paramId(request));
        return { value };
      } catch (error) {
        if (error instanceof UnauthorizedError) {
          kit.sessions.endAllOf(session.credential);
          return reply.code(401).send({ message: 'Your session ended. Sign in again.' });
        }
        return reply.code(error instanceof TokenplaneError ? error.status : 502).send({
          message: refusal(error),
        });
      }
    });
  };
}

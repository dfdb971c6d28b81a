/**
 * Single sign-on for the console (README "Members and single sign-on"): the
 * OpenID Connect authorization code flow with PKCE, by openid-client, against
 * the provider discovered from TOKENPLANE_OIDC_ISSUER.
 *
 * "Sign in with single sign-on" posts to /console/oidc/start, which keeps the
 * flow's secrets (PKCE verifier, state, nonce) on the server under a random id
 * in a short-lived cookie, and sends the browser to the provider. The provider
 * sends it back to /console/oidc/callback, where openid-client checks state,
 * PKCE, the ID token's issuer, audience, signature and nonce. A verified email
 * then signs in with its one membership, chooses among several
 * (/console/oidc/choose), or is refused with whom to ask (oidc.ts decides).
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as oidc from 'openid-client';
import { constantTimeEqual } from '../../core/crypto/keys.ts';
import type { Member } from '../../core/schemas/index.ts';
import { memberCredential, memberPrincipal } from '../server/member-credentials.ts';
import { memberById, membershipsOf } from '../storage/members.ts';
import { field } from './forms.ts';
import type { ConsoleKit } from './index.ts';
import { admit, isLoopbackHttp, OIDC_SCOPES, type OidcSettings, verifiedEmail } from './oidc.ts';
import { isTls } from './security.ts';
import { choicePage, continuePage, refusedPage } from './views/sso.ts';

/** How long a person may take at the provider before the flow must start again. */
const FLOW_MS = 10 * 60_000;
const MAX_FLOWS = 10_000;
const COOKIE = 'tokenplane_oidc';
const TLS_COOKIE = '__Host-tokenplane_oidc';
export const CALLBACK_PATH = '/console/oidc/callback';

/** A sign-in under way: before the callback, its checks; after it, the memberships to choose from. */
type Flow = {
  startedAt: number;
  redirectUri: string;
  verifier: string;
  state: string;
  nonce: string;
  choice?: { email: string; members: Member[]; idToken: string | undefined; csrf: string };
};

/** The provider, discovered on first use (so the server starts while it is down) and then kept. */
export class OidcProvider {
  readonly #settings: OidcSettings;
  #configuration: Promise<oidc.Configuration> | undefined;
  #endpoints: string[] = [];

  constructor(settings: OidcSettings) {
    this.#settings = settings;
  }

  configuration(): Promise<oidc.Configuration> {
    const { issuer, clientId, clientSecret } = this.#settings;
    this.#configuration ??= oidc
      .discovery(issuer, clientId, clientSecret, undefined, {
        execute: isLoopbackHttp(issuer) ? [oidc.allowInsecureRequests] : [],
        timeout: 10,
      })
      .then((configuration) => {
        const { authorization_endpoint, end_session_endpoint } = configuration.serverMetadata();
        this.#endpoints = [authorization_endpoint, end_session_endpoint].flatMap((url) =>
          url ? [new URL(url).origin] : [],
        );
        return configuration;
      })
      .catch((error: unknown) => {
        this.#configuration = undefined;
        throw error;
      });
    return this.#configuration;
  }

  /**
   * Where the console's forms may lead (CSP `form-action`): the sign-in and
   * sign-out forms end at the provider, and browsers hold redirects after a
   * form post to that list too.
   */
  formActions(): string[] {
    return [...new Set([this.#settings.issuer.origin, ...this.#endpoints])];
  }

  get issuer(): string {
    return this.#settings.issuer.href;
  }
}

/** Where the provider's end-session endpoint signs the person out too, or null when it has none. */
export async function providerSignOut(
  provider: OidcProvider,
  idToken: string,
  signedOutUrl: string,
): Promise<string | null> {
  const configuration = await provider.configuration();
  if (!configuration.serverMetadata().end_session_endpoint) return null;
  return oidc.buildEndSessionUrl(configuration, {
    id_token_hint: idToken,
    post_logout_redirect_uri: signedOutUrl,
  }).href;
}

export function ssoRoutes(kit: ConsoleKit, provider: OidcProvider) {
  return async (app: FastifyInstance) => {
    const flows = new Map<string, Flow>();
    kit.ctx.metrics.countEntries('console-sign-in-flows', () => flows.size);
    const cookieName = (request: FastifyRequest) => (isTls(request) ? TLS_COOKIE : COOKIE);

    function keep(reply: FastifyReply, request: FastifyRequest, flow: Flow): void {
      const now = kit.ctx.clock();
      for (const [id, old] of flows) {
        if (now - old.startedAt >= FLOW_MS || flows.size >= MAX_FLOWS) flows.delete(id);
      }
      const id = randomBytes(32).toString('base64url');
      flows.set(id, flow);
      // Lax, not Strict: the provider's redirect back is a navigation from another site.
      reply.setCookie(cookieName(request), id, {
        path: '/',
        httpOnly: true,
        sameSite: 'lax',
        secure: isTls(request),
        maxAge: FLOW_MS / 1000,
      });
    }

    /** The flow of the request's cookie, at most once. */
    function take(request: FastifyRequest, reply: FastifyReply): Flow | null {
      const id = request.cookies[cookieName(request)];
      reply.clearCookie(cookieName(request), { path: '/' });
      const flow = id ? flows.get(id) : undefined;
      if (!id || !flow) return null;
      flows.delete(id);
      return kit.ctx.clock() - flow.startedAt < FLOW_MS ? flow : null;
    }

    function refused(reply: FastifyReply, status: number, text: string) {
      return reply
        .code(status)
        .type('text/html; charset=utf-8')
        .send(refusedPage(kit.assets, text).text);
    }

    /** Signs the member in: a session acting as the membership, then on to the console. */
    async function signIn(
      request: FastifyRequest,
      reply: FastifyReply,
      member: Member,
      idToken: string | undefined,
    ) {
      const credential = memberCredential(
        kit.ctx,
        member.id,
        kit.ctx.clock() + kit.sessions.absoluteMs,
      );
      const principal = await memberPrincipal(kit.ctx, credential);
      if (!principal) {
        return refused(reply, 403, `${member.email} is no longer a member there; sign in again.`);
      }
      const entity = await kit.clientFor(credential).getEntity(member.entityId);
      kit.endSession(request, reply);
      const { id } = kit.sessions.create(
        credential,
        principal,
        `${member.email}, member of "${entity.name}"`,
        idToken,
      );
      kit.startSession(reply, request, { id });
      // A page, not a redirect: the session cookie is SameSite=Strict, and a browser
      // would not send it on a redirect that began at the provider's site.
      return reply.type('text/html; charset=utf-8').send(continuePage(kit.assets).text);
    }

    app.post('/console/oidc/start', async (request, reply) => {
      if (!kit.sameOrigin(request))
        return refused(reply, 403, 'Start signing in from this console.');
      let configuration: oidc.Configuration;
      try {
        configuration = await provider.configuration();
      } catch (error) {
        request.log.warn(
          { err: error, issuer: provider.issuer },
          'OpenID provider discovery failed',
        );
        return refused(
          reply,
          502,
          `The identity provider at ${provider.issuer} did not answer. Try again in a moment, or sign in with an access key.`,
        );
      }
      const verifier = oidc.randomPKCECodeVerifier();
      const flow: Flow = {
        startedAt: kit.ctx.clock(),
        redirectUri: `${kit.origin(request)}${CALLBACK_PATH}`,
        verifier,
        state: oidc.randomState(),
        nonce: oidc.randomNonce(),
      };
      const url = oidc.buildAuthorizationUrl(configuration, {
        redirect_uri: flow.redirectUri,
        scope: OIDC_SCOPES,
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state: flow.state,
        nonce: flow.nonce,
        // "Use another account" on the refusal page asks the provider to sign in afresh.
        ...(field(request.body, 'prompt') === 'login' ? { prompt: 'login' } : {}),
      });
      keep(reply, request, flow);
      return reply.redirect(url.href, 303);
    });

    app.get(CALLBACK_PATH, async (request, reply) => {
      const flow = take(request, reply);
      if (!flow || flow.choice) {
        return refused(
          reply,
          400,
          'This sign-in expired or was not started in this browser. Start again from the sign-in page.',
        );
      }
      const current = new URL(flow.redirectUri);
      current.search = new URL(request.url, 'http://callback').search;
      let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
      try {
        tokens = await oidc.authorizationCodeGrant(await provider.configuration(), current, {
          pkceCodeVerifier: flow.verifier,
          expectedState: flow.state,
          expectedNonce: flow.nonce,
          idTokenExpected: true,
        });
      } catch (error) {
        request.log.warn({ err: error }, 'single sign-on refused');
        const reason = error instanceof Error ? error.message : String(error);
        return refused(reply, 400, `Single sign-on did not complete: ${reason}. Start again.`);
      }
      const identity = verifiedEmail(tokens.claims());
      if ('refused' in identity) return refused(reply, 403, identity.refused);
      const admission = admit(
        identity.email,
        await membershipsOf(kit.ctx.store.db, identity.email),
      );
      if (admission.kind === 'refused') return refused(reply, 403, admission.message);
      if (admission.kind === 'member')
        return signIn(request, reply, admission.member, tokens.id_token);
      const csrf = randomBytes(32).toString('base64url');
      const choice = {
        email: identity.email,
        members: admission.members,
        idToken: tokens.id_token,
        csrf,
      };
      keep(reply, request, { ...flow, startedAt: kit.ctx.clock(), choice });
      const names = await Promise.all(
        admission.members.map(async (member) => {
          const look = memberCredential(kit.ctx, member.id, kit.ctx.clock() + 60_000);
          return (await kit.clientFor(look).getEntity(member.entityId)).name;
        }),
      );
      return reply
        .type('text/html; charset=utf-8')
        .send(choicePage(kit.assets, identity.email, admission.members, names, csrf).text);
    });

    app.post('/console/oidc/choose', async (request, reply) => {
      const flow = take(request, reply);
      const choice = flow?.choice;
      if (
        !choice ||
        !kit.sameOrigin(request) ||
        !constantTimeEqual(field(request.body, '_csrf'), choice.csrf)
      ) {
        return refused(
          reply,
          400,
          'This choice expired or did not come from this console. Sign in again.',
        );
      }
      const chosen = choice.members.find((m) => m.id === field(request.body, 'memberId'));
      const member = chosen && (await memberById(kit.ctx.store.db, chosen.id));
      if (!member) return refused(reply, 403, 'That membership no longer exists. Sign in again.');
      return signIn(request, reply, member, choice.idToken);
    });
  };
}

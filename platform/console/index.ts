/**
 * The console (README "Console"), served by `tokenplane serve` at /console/: server-rendered
 * pages, small progressive-enhancement module and stylesheet from ./assets.
 *
 * The console acts with the session's own credential through the typed client
 * (core/client), over loopback to this same server, so it can do exactly
 * what the key can — subtree, role and governance are the API's decisions, and
 * every change is audited as that key's. Sessions live in server memory
 * (./sessions.ts); the browser holds an HttpOnly, SameSite=Strict cookie only.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Pool } from 'undici';
import { TokenplaneClient } from '../../core/client/index.ts';
import { managementPrincipal } from '../server/auth.ts';
import type { PlatformContext } from '../server/context.ts';
import { RateLimiter } from '../server/permissions/rate-limiter.ts';
import { actionRoutes } from './actions.ts';
import type { OidcSettings } from './oidc.ts';
import { pageRoutes } from './pages.ts';
import { isTls, publicOrigin, requestOrigin, sameOrigin, setSecurityHeaders } from './security.ts';
import { csrfMatches, type Session, type SessionLimits, SessionStore } from './sessions.ts';
import { OidcProvider, ssoRoutes } from './sso.ts';
import type { Assets } from './views/layout.ts';

export type ConsoleOptions = SessionLimits & {
  /**
   * The console's public URL (TOKENPLANE_PUBLIC_URL, e.g. https://tokens.example.com):
   * set, a state-changing request's `Origin` must be its origin, whatever `Host` says.
   */
  publicUrl?: string | undefined;
  /** Client addresses whose failed sign-ins are counted at most (default 10 000). */
  maxSignInAddresses?: number;
  /** Single sign-on's provider (TOKENPLANE_OIDC_*, oidc.ts); absent, the console offers access keys only. */
  oidc?: OidcSettings | null | undefined;
};

/** What the page and action routes share. */
export type ConsoleKit = {
  ctx: PlatformContext;
  sessions: SessionStore;
  /** The OpenID provider, when single sign-on is configured. */
  sso: OidcProvider | null;
  /** Failed sign-ins per client address (README "Console"): 10 a minute, then 429. */
  signInAttempts: RateLimiter;
  assets: Assets;
  /** A client acting with a session's credential. */
  clientFor(credential: string): TokenplaneClient;
  /** The live session of the request (after re-checking its credential), or null. */
  sessionOf(request: FastifyRequest): Promise<Session | null>;
  startSession(reply: FastifyReply, request: FastifyRequest, session: { id: string }): void;
  endSession(request: FastifyRequest, reply: FastifyReply): void;
  /** Whether the request's `Origin`/`Sec-Fetch-Site` say it comes from this console (security.ts). */
  sameOrigin(request: FastifyRequest): boolean;
  /** Refuses (403 page) a state-changing request that did not come from a console page. */
  checkForgery(request: FastifyRequest, session: Session, token: unknown): boolean;
  /** The console's origin as the browser sees it: the public URL's, else the request's. */
  origin(request: FastifyRequest): string;
};

const ASSETS_DIR = fileURLToPath(new URL('./assets/', import.meta.url));
const COOKIE = 'tokenplane_session';
/** Over TLS the cookie is `Secure`, and the `__Host-` prefix pins it to this host and path /. */
const TLS_COOKIE = '__Host-tokenplane_session';

/** Asset URLs carry a digest of their content, so they can be cached for good. */
function assetUrls(): Assets {
  const url = (name: string) => {
    const digest = createHash('sha256')
      .update(readFileSync(ASSETS_DIR + name))
      .digest('base64url');
    return `/console/assets/${name}?v=${digest.slice(0, 12)}`;
  };
  return { css: url('console.css'), js: url('console.js'), icon: url('favicon.svg') };
}

/** The loopback origin of this server (a wildcard bind address is reached on loopback). */
function selfOrigin(app: FastifyInstance): string {
  const address = app.server.address();
  if (!address || typeof address === 'string') {
    throw new Error('the console needs the server to listen on a TCP port');
  }
  const host =
    address.address === '0.0.0.0'
      ? '127.0.0.1'
      : address.address === '::'
        ? '[::1]'
        : address.family === 'IPv6'
          ? `[${address.address}]`
          : address.address;
  return `http://${host}:${address.port}`;
}

export function consoleRoutes(ctx: PlatformContext, options: ConsoleOptions = {}) {
  // Checked here, so a wrong setting stops the server at start.
  const expectedOrigin = options.publicUrl ? publicOrigin(options.publicUrl) : null;
  return async (app: FastifyInstance) => {
    // Pages, not API: kept out of the OpenAPI document.
    app.addHook('onRoute', (route) => {
      route.schema = { ...route.schema, hide: true };
    });
    await app.register(fastifyCookie);
    await app.register(fastifyFormbody);
    await app.register(fastifyStatic, {
      root: ASSETS_DIR,
      prefix: '/console/assets/',
      maxAge: '365d',
      immutable: true,
      index: false,
    });

    const sessions = new SessionStore(ctx.clock, options);
    ctx.metrics.countEntries('console-sessions', () => sessions.size);
    const signInAttempts = new RateLimiter(ctx.clock, {
      maxKeys: options.maxSignInAddresses ?? 10_000,
    });
    ctx.metrics.countEntries('console-sign-in-addresses', () => signInAttempts.size);
    let pool: Pool | undefined;
    let origin: string | undefined;
    app.addHook('onClose', async () => {
      await pool?.close();
    });

    const cookieName = (request: FastifyRequest) => (isTls(request) ? TLS_COOKIE : COOKIE);

    const sso = options.oidc ? new OidcProvider(options.oidc) : null;
    const kit: ConsoleKit = {
      ctx,
      sessions,
      sso,
      signInAttempts,
      assets: assetUrls(),
      clientFor(credential) {
        origin ??= selfOrigin(app);
        pool ??= new Pool(origin, { connections: 16 });
        return new TokenplaneClient({
          endpoint: origin,
          apiKey: credential,
          dispatcher: pool,
          userAgent: 'tokenplane-console',
        });
      },
      async sessionOf(request) {
        const id = request.cookies[cookieName(request)];
        const session = sessions.touch(id);
        if (!session) return null;
        // A revoked key or a removed member ends its sessions at once, not at expiry.
        const principal = await managementPrincipal(ctx, session.credential);
        if (!principal) {
          sessions.endAllOf(session.credential);
          return null;
        }
        session.principal = principal;
        return session;
      },
      startSession(reply, request, { id }) {
        reply.setCookie(cookieName(request), id, {
          path: '/',
          httpOnly: true,
          sameSite: 'strict',
          secure: isTls(request),
        });
      },
      endSession(request, reply) {
        sessions.end(request.cookies[cookieName(request)]);
        reply.clearCookie(cookieName(request), { path: '/' });
      },
      sameOrigin(request) {
        return sameOrigin(request, expectedOrigin);
      },
      checkForgery(request, session, token) {
        return kit.sameOrigin(request) && csrfMatches(session, token);
      },
      origin(request) {
        return expectedOrigin ?? requestOrigin(request);
      },
    };

    app.addHook('onSend', async (request, reply, payload) => {
      setSecurityHeaders(reply, sso?.formActions() ?? []);
      if (!request.url.startsWith('/console/assets/')) reply.header('cache-control', 'no-store');
      return payload;
    });

    app.get('/', async (_request, reply) => reply.redirect('/console/', 302));
    app.get('/console', async (_request, reply) => reply.redirect('/console/', 302));
    await app.register(pageRoutes(kit));
    await app.register(actionRoutes(kit));
    if (sso) await app.register(ssoRoutes(kit, sso));
  };
}

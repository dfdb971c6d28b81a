/**
 * Authentication: `Authorization: Bearer <credential>`, chosen per route by
 * `config.auth` — `management` (administrator key or access key), `token` (an
 * API token, bearer or signed, with its address and origin checked — see
 * permissions/checks.ts; analytics routes) or `none`. Fills `request.principal` or
 * `request.apiToken`; failures answer 401 before any handler runs.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ProblemError } from '../../core/domain/problems.ts';
import { isApiTokenValue, isWellFormedSecret } from '../../core/domain/secret-format.ts';
import { findAccessKeyByDigest } from '../storage/access-keys.ts';
import type { AuthMode, PlatformContext, Principal } from './context.ts';
import { SIGNATURE_HEADER, SIGNED_REPORTS } from './leak-signature.ts';
import { isMemberCredential, memberPrincipal } from './member-credentials.ts';
import { authenticate } from './permissions/checks.ts';

export function adminKeyDigest(adminKey: string): Buffer {
  return createHash('sha256').update(adminKey).digest();
}

export const BEARER = /^Bearer[ ]+(\S{1,512})\s*$/i;

/** `Bearer ` and 1 to 512 visible ASCII characters: a value BEARER's `\S{1,512}` takes. */
const USUAL = /^Bearer [\x21-\x7e]{1,512}$/;

/** The credential of an `Authorization: Bearer <credential>` header, as BEARER reads it. */
export function bearer(header: string | undefined): string | null {
  if (!header) return null;
  // The usual form is tested, not matched: a match costs more (callgrind).
  if (USUAL.test(header)) return header.slice(7);
  return BEARER.exec(header)?.[1] ?? null;
}

/**
 * Who a management credential (administrator key, access key, or a console
 * session's member credential) is, or null when it is none of them. The
 * console signs in, and re-checks each session, through this too.
 */
export async function managementPrincipal(
  ctx: PlatformContext,
  credential: string,
): Promise<Principal | null> {
  const digest = createHash('sha256').update(credential).digest();
  if (timingSafeEqual(digest, ctx.adminKeyDigest)) {
    return { type: 'admin', id: null, role: 'admin', scope: null };
  }
  if (isMemberCredential(credential)) return memberPrincipal(ctx, credential);
  if (isWellFormedSecret(credential, 'accessKey')) {
    const key = await findAccessKeyByDigest(ctx.store, ctx.box.digest(credential));
    if (key) {
      const { id, role, entityId: scope, email } = key;
      return { type: 'access-key', id, role, scope, ...(email === null ? {} : { email }) };
    }
  }
  return null;
}

export function installAuth(app: FastifyInstance, ctx: PlatformContext): void {
  app.decorateRequest('principal', null);
  app.decorateRequest('apiToken', null);
  app.decorateRequest('audit', null);
  app.decorateRequest('problemSlug', null);

  // A callback hook, not an async one: a token the verifier's cache knows is
  // checked without a promise (the analytics hot path).
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    const mode = request.routeOptions.config?.auth ?? 'none';
    if (mode === 'none') return done();
    // The headers as Node read them: fastify's `request.headers` first looks for
    // headers a hook may have set, a property no request has, and that look-up
    // through the request classes of every plugin cost 1.5 % (callgrind).
    const credential = bearer(request.raw.headers.authorization);
    if (mode === 'token') {
      let token: ReturnType<typeof authenticate>;
      try {
        token = authenticate(ctx, request, credential);
      } catch (error) {
        return done(error as Error);
      }
      if (!(token instanceof Promise)) {
        request.apiToken = token;
        return done();
      }
      token.then((verified) => {
        request.apiToken = verified;
        done();
      }, done);
      return;
    }
    management(ctx, request, mode, credential).then(() => done(), done);
  });
}

async function management(
  ctx: PlatformContext,
  request: FastifyRequest,
  mode: AuthMode,
  credential: string | null,
): Promise<void> {
  // A signed leak report is checked once its body is read (routes/token-leaks.ts).
  if (mode === 'leak-report' && !credential && request.headers[SIGNATURE_HEADER] !== undefined) {
    return;
  }
  if (!credential) {
    throw new ProblemError(
      'unauthorized',
      'Send the administrator key or an access key as "Authorization: Bearer <key>".' +
        (mode === 'leak-report' ? ` ${SIGNED_REPORTS}` : ''),
    );
  }
  const principal = await managementPrincipal(ctx, credential);
  if (principal) {
    request.principal = principal;
    return;
  }
  const hint = isApiTokenValue(credential)
    ? ' API tokens authenticate the analytics routes only.'
    : '';
  throw new ProblemError(
    'unauthorized',
    `The credential is not a valid administrator or access key.${hint}`,
  );
}

/**
 * Single sign-on (README "Members and single sign-on"), the decisions of it that need no provider: whether
 * it is configured, which identity a provider's ID token claims, and what a
 * verified email may do — sign in with its one membership, choose among
 * several, or be refused with whom to ask. The OpenID Connect flow itself
 * (authorization code with PKCE, discovered from the issuer) hands its claims here.
 */
import type { Member } from '../../core/schemas/index.ts';

export type OidcSettings = { issuer: URL; clientId: string; clientSecret: string };

const VARIABLES = [
  'TOKENPLANE_OIDC_ISSUER',
  'TOKENPLANE_OIDC_CLIENT_ID',
  'TOKENPLANE_OIDC_CLIENT_SECRET',
] as const;

/** The provider from the environment; null when none of the three is set, an error when only some are. */
export function oidcSettings(env: Record<string, string | undefined>): OidcSettings | null {
  const missing = VARIABLES.filter((name) => !env[name]);
  if (missing.length === VARIABLES.length) return null;
  if (missing.length > 0) {
    throw new Error(
      `Single sign-on needs ${VARIABLES.join(', ')}; ${missing.join(' and ')} not set.`,
    );
  }
  const issuer = URL.parse(String(env.TOKENPLANE_OIDC_ISSUER));
  if (!issuer || (issuer.protocol !== 'https:' && !isLoopbackHttp(issuer))) {
    throw new Error(
      'TOKENPLANE_OIDC_ISSUER must be the https URL of the issuer, e.g. https://id.example.com/realms/acme (http only on loopback, for tests)',
    );
  }
  return {
    issuer,
    clientId: String(env.TOKENPLANE_OIDC_CLIENT_ID),
    clientSecret: String(env.TOKENPLANE_OIDC_CLIENT_SECRET),
  };
}

/** A provider on this machine, reached without TLS (the tests' Keycloak). */
export function isLoopbackHttp(url: URL): boolean {
  return url.protocol === 'http:' && ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname);
}

/** The scopes the console asks for. */
export const OIDC_SCOPES = 'openid email profile';

/** The verified email of an ID token's claims, or why it cannot sign in. */
export function verifiedEmail(
  claims: Record<string, unknown> | undefined,
): { email: string } | { refused: string } {
  const email = claims?.email;
  if (typeof email !== 'string' || email === '') {
    return { refused: 'Your identity provider did not tell us your email address.' };
  }
  if (claims?.email_verified !== true) {
    return {
      refused: `Your identity provider has not verified ${email}; verify it there, then sign in again.`,
    };
  }
  return { email: email.toLowerCase() };
}

/** What a verified email may do with its memberships. */
export type Admission =
  | { kind: 'member'; member: Member }
  | { kind: 'choose'; members: Member[] }
  | { kind: 'refused'; message: string };

export function admit(email: string, memberships: Member[]): Admission {
  const [first, ...others] = memberships;
  if (!first) {
    return {
      kind: 'refused',
      message:
        `${email} is not a member of any organisation here. Ask an administrator of your ` +
        'organisation (or whoever gave you its access keys) to add this email as a member, then sign in again.',
    };
  }
  return others.length === 0
    ? { kind: 'member', member: first }
    : { kind: 'choose', members: memberships };
}

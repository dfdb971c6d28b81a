/**
 * Browser-facing protections of the console: a strict Content-Security-Policy
 * (scripts and styles from the console itself only, no framing), and the
 * same-origin check that, with the session's synchronizer token, refuses
 * cross-site requests that change anything.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

/** The policy; `formActions` adds origins forms may lead to (single sign-on's provider). */
export function contentSecurityPolicy(formActions: readonly string[] = []): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    ["form-action 'self'", ...formActions].join(' '),
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

export function setSecurityHeaders(reply: FastifyReply, formActions: readonly string[]): void {
  reply.header('content-security-policy', contentSecurityPolicy(formActions));
  reply.header('x-content-type-options', 'nosniff');
  reply.header('x-frame-options', 'DENY');
  // Not no-referrer: with it, browsers send `Origin: null` on form posts, and the origin check needs it.
  reply.header('referrer-policy', 'same-origin');
  reply.header('cross-origin-opener-policy', 'same-origin');
  reply.header('cross-origin-resource-policy', 'same-origin');
}

export function isTls(request: FastifyRequest): boolean {
  return request.protocol === 'https';
}

/**
 * Whether a state-changing request comes from a page of this console. Browsers
 * send `Origin` on every POST and `Sec-Fetch-Site` on every request; either, when
 * present, must say "this origin". A request with neither is left to the
 * synchronizer token (sign-in has none: its form creates the session).
 *
 * "This origin" is the console's public origin when it is configured
 * (TOKENPLANE_PUBLIC_URL); otherwise the request's own scheme and `Host`, which
 * whoever sends the request chooses.
 */
export function sameOrigin(request: FastifyRequest, expected: string | null = null): boolean {
  const origin = request.headers.origin;
  if (origin !== undefined) {
    return origin === (expected ?? requestOrigin(request));
  }
  const site = request.headers['sec-fetch-site'];
  return site === undefined || site === 'same-origin' || site === 'none';
}

/** The scheme and `Host` of the request, as whoever sent it says. */
export function requestOrigin(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

/** The origin (scheme, host, port) of the console's public URL; throws, saying what to set, unless it is one. */
export function publicOrigin(url: string): string {
  const parsed = URL.parse(url);
  if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') || !parsed.host) {
    throw new Error(
      `TOKENPLANE_PUBLIC_URL: ${url} is not an http(s) URL; set the console's public origin, e.g. https://tokens.example.com`,
    );
  }
  return parsed.origin;
}

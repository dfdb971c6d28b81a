/**
 * Browser-facing protections of the console: a strict Content-Security-Policy
 * (scripts and styles from the console itself only, no framing), and the
 * same-origin check that, with the session's synchronizer token, refuses
 * cross-site requests that change anything.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export function setSecurityHeaders(reply: FastifyReply): void {
  reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
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
 */
export function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (origin !== undefined) {
    return origin === `${request.protocol}://${request.host}`;
  }
  const site = request.headers['sec-fetch-site'];
  return site === undefined || site === 'same-origin' || site === 'none';
}

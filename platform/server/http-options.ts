/**
 * How the platform's HTTP server treats clients, before any route runs:
 * - Slow clients are cut off: headers must arrive within HEADERS_TIMEOUT_MS and
 *   the whole request (a body shorter than its Content-Length included) within
 *   REQUEST_TIMEOUT_MS, checked every CHECK_INTERVAL_MS, so no request holds a
 *   connection past 30 s; the client gets a 408 problem and the close (Node's
 *   defaults, 60 s and 300 s checked every 30 s, held them for minutes).
 *   A connection idle between requests is closed after KEEP_ALIVE_TIMEOUT_MS:
 *   longer than the 60 s idle timeout of common load balancers, so they close
 *   first and never send a request into a connection being closed (a 502).
 * - An HTTP/1.1 request without Host gets a 400 problem like every other
 *   refusal (Node answered it in plain text itself).
 * - X-Request-Id is honoured when it is a plain identifier (up to 128 characters of
 *   [A-Za-z0-9_.:-]), never when it looks like a secret: it is echoed and
 *   stored as the audit `requestId`.
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { randomHex } from '../../core/crypto/ids.ts';
import { ProblemError } from '../../core/domain/problems.ts';
import { redactSecretText } from '../../core/logging.ts';

export const REQUEST_TIMEOUT_MS = 25_000;
export const HEADERS_TIMEOUT_MS = 20_000;
const CHECK_INTERVAL_MS = 2_000;
export const KEEP_ALIVE_TIMEOUT_MS = 72_000;

/** Fastify options for these limits; a shorter `requestTimeoutMs` shortens the header and check times too (tests). */
export function httpOptions(requestTimeoutMs = REQUEST_TIMEOUT_MS) {
  return {
    requestTimeout: requestTimeoutMs,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    http: {
      requireHostHeader: false,
      headersTimeout: Math.min(HEADERS_TIMEOUT_MS, requestTimeoutMs),
      connectionsCheckingInterval: Math.min(CHECK_INTERVAL_MS, requestTimeoutMs),
    },
  };
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * The client's X-Request-Id when it is a safe identifier, else a new one of
 * 128 random bits in hex (the shape of a W3C trace id; randomUUID builds its 36
 * characters from 20 pieces, 1.5 % of a token-authenticated request): a value
 * the logs would blank (a token, a key of any generated form) is never echoed
 * nor stored.
 */
export function requestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  if (typeof given !== 'string' || !REQUEST_ID.test(given)) return randomHex(16);
  return redactSecretText(given) === given ? given : randomHex(16);
}

/** RFC 9112 §3.2: a server MUST answer 400 to an HTTP/1.1 request without Host. */
export function requireHost(app: FastifyInstance): void {
  app.addHook('onRequest', (request, _reply, done) => {
    if (
      request.raw.httpVersion === '1.1' &&
      request.raw.headers.host === undefined /* raw: see auth.ts */
    ) {
      return done(
        new ProblemError('bad-request', 'An HTTP/1.1 request needs a Host header; send one.'),
      );
    }
    done();
  });
}

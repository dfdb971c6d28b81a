/**
 * The checks of README "Token permissions and limits" on an analytics request, in its order:
 *
 *   credential (401) → signature (401) → address (403) → origin (403)
 *     → tier and scope (403) → rate limit (429) → usage (429)
 *
 * `authenticate` runs the first four before the route's input is validated;
 * `admit` the rest inside the handler, after validation, so that a request
 * refused for any reason (a bad query included) consumes no usage. A request
 * refused by the usage limit gives its rate-limit slot back. Each returns a
 * promise only when it must wait for the database: a cached token without a
 * usage limit waits for nothing.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { originAllowed, scopesAllow } from '../../../core/domain/permissions.ts';
import { ProblemError } from '../../../core/domain/problems.ts';
import type { MetricDef } from '../analytics.ts';
import type { PlatformContext } from '../context.ts';
import type { VerifiedToken } from '../verifier.ts';
import { rateLimitHeaders } from './rate-limiter.ts';
import { isSigned, verifySignedRequest } from './signed-requests.ts';

/** The token and its address and origin checks; at once (no promise) when the verifier's cache knows it. */
export function authenticate(
  ctx: PlatformContext,
  request: FastifyRequest,
  bearer: string | null,
): VerifiedToken | Promise<VerifiedToken> {
  const token = credential(ctx, request, bearer);
  return token instanceof Promise
    ? token.then((t) => fromHere(request, t))
    : fromHere(request, token);
}

/** The address and origin checks. */
function fromHere(request: FastifyRequest, token: VerifiedToken): VerifiedToken {
  const policy = token.policy;
  if (!policy.addressAllowed(request.ip)) {
    throw new ProblemError(
      'ip-not-allowed',
      `Requests from ${request.ip} may not use this token; add the address or its range to the token's allowedIps.`,
    );
  }
  const origin = request.raw.headers.origin; // raw: see auth.ts
  if (!originAllowed(policy.allowedOrigins, origin)) {
    throw new ProblemError(
      'origin-not-allowed',
      origin === undefined
        ? 'This token may be used only from the web origins in its allowedOrigins; the request has no Origin header.'
        : `Origin ${origin} may not use this token; add it to the token's allowedOrigins.`,
    );
  }
  return token;
}

function credential(
  ctx: PlatformContext,
  request: FastifyRequest,
  bearer: string | null,
): VerifiedToken | Promise<VerifiedToken> {
  if (bearer === null && isSigned(request)) return verifySignedRequest(ctx, request);
  if (bearer === null) {
    throw new ProblemError(
      'unauthorized',
      'Send an API token as "Authorization: Bearer <token>", or sign the request (RFC 9421).',
    );
  }
  const token = ctx.verifier.verify(bearer);
  return token instanceof Promise ? token.then(bearerUsable) : bearerUsable(token);
}

/** A verified token that may be sent as a bearer value. */
function bearerUsable(token: VerifiedToken | null): VerifiedToken {
  if (!token) {
    throw new ProblemError(
      'unauthorized',
      'The API token is unknown, disabled, expired or was rotated out of its grace period.',
    );
  }
  if (token.policy.requireSignedRequests) {
    throw new ProblemError(
      'signature-invalid',
      'This token requires signed requests: never send its value; sign each request (RFC 9421, hmac-sha256, keyid = token id). Rotate the token if the value was exposed.',
    );
  }
  return token;
}

/** Tier and scope (when reading one metric), then rate limit, then usage. */
export function admit(
  ctx: PlatformContext,
  token: VerifiedToken,
  reply: FastifyReply,
  metric: MetricDef | null,
): undefined | Promise<void> {
  const { policy } = token;
  if (metric) {
    if (!ctx.catalog.canRead(token.tier, metric)) {
      throw new ProblemError(
        'tier-insufficient',
        `Metric "${metric.name}" needs tier "${metric.tier}"; this token's entity has tier "${token.tier}".`,
        { tier: token.tier, requiredTier: metric.tier },
      );
    }
    if (!scopesAllow(policy.scopes, metric.name)) {
      throw new ProblemError(
        'scope-insufficient',
        `This token's scopes (${policy.scope || 'none'}) do not include metric "${metric.name}"; add metric:${metric.name}:read or a scope that covers it.`,
        { scopes: policy.scopes },
      );
    }
  }
  if (policy.rateLimit) {
    const decision = ctx.rateLimiter.take(token.tokenId, policy.rateLimit);
    reply.headers(rateLimitHeaders(policy.rateLimit, decision));
    if (!decision.allowed) {
      reply.header('retry-after', String(decision.resetSeconds));
      throw new ProblemError(
        'rate-limited',
        `This token allows ${policy.rateLimit.requests} request(s) per ${policy.rateLimit.perSeconds} s; retry in ${decision.resetSeconds} s.`,
        { retryAfter: decision.resetSeconds },
      );
    }
  }
  // Only a usage limit needs the store: without one, nothing here waits.
  const { usageLimit } = policy;
  return usageLimit ? takeUsage(ctx, token, usageLimit) : undefined;
}

async function takeUsage(
  ctx: PlatformContext,
  token: VerifiedToken,
  usageLimit: NonNullable<VerifiedToken['policy']['usageLimit']>,
): Promise<void> {
  const usage = await ctx.usage.take(token.tokenId, usageLimit);
  if (usage.allowed) return;
  if (token.policy.rateLimit) ctx.rateLimiter.giveBack(token.tokenId);
  const { limit, period } = usageLimit;
  throw new ProblemError(
    'usage-exceeded',
    `This token's usage limit of ${limit} request(s) ${period === 'total' ? 'in total' : `per ${period}`} is used up` +
      (usage.resetsAt ? `; it resets at ${usage.resetsAt}.` : '; raise usageLimit to serve more.'),
    { limit, period, resetsAt: usage.resetsAt },
  );
}

/**
 * CORS and rate-limit headers of every analytics answer: `Vary: Origin`
 * always; `Access-Control-Allow-Origin` only for an origin the token allows;
 * the rate-limit fields whenever the token has a rate limit (refusals too).
 */
export function answerHeaders(
  ctx: PlatformContext,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  if (request.method === 'OPTIONS') return; // answerPreflight says it all
  reply.header('vary', 'Origin');
  const token = request.apiToken;
  if (!token) return;
  const origin = request.raw.headers.origin; // raw: see auth.ts
  if (origin !== undefined && originAllowed(token.policy.allowedOrigins, origin)) {
    reply.header('access-control-allow-origin', origin);
    reply.header('access-control-expose-headers', EXPOSED_HEADERS);
  }
  const limit = token.policy.rateLimit;
  if (limit && !reply.hasHeader('ratelimit')) {
    reply.headers(rateLimitHeaders(limit, ctx.rateLimiter.peek(token.tokenId, limit)));
  }
}

const EXPOSED_HEADERS = 'RateLimit, RateLimit-Policy, Retry-After';

/**
 * A CORS preflight carries no credential, so it cannot know the token's
 * origins: it admits the method and headers for any origin, and the actual
 * request is judged (and answered with Access-Control-Allow-Origin or not).
 */
export function answerPreflight(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  reply.header('vary', 'Origin, Access-Control-Request-Headers');
  const origin = request.headers.origin;
  if (origin !== undefined) {
    reply.header('access-control-allow-origin', origin);
    reply.header('access-control-allow-methods', 'GET');
    reply.header('access-control-allow-headers', 'Authorization, Signature, Signature-Input');
    reply.header('access-control-max-age', '600');
  }
  return reply.code(204).send();
}

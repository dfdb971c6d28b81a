/**
 * Analytics: the consumer of API tokens, gated by the token's tier and its
 * permissions (permissions/checks.ts: address and origin before the
 * handler, tier, scope, rate and usage inside it), with CORS for web pages.
 */
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ProblemError } from '../../../core/domain/problems.ts';
import {
  MetricCatalog,
  MetricParams,
  MetricQuery,
  MetricSeries,
} from '../../../core/schemas/index.ts';
import { MAX_RANGE_MS, seriesJson } from '../analytics.ts';
import type { PlatformContext } from '../context.ts';
import { PairMap } from '../pair-map.ts';
import { admit, answerHeaders, answerPreflight } from '../permissions/checks.ts';
import type { VerifiedToken } from '../verifier.ts';
import { plainJson, problemResponses } from './common.ts';

const tokenSecurity: Record<string, string[]>[] = [{ apiToken: [] }, { httpSignature: [] }];

/**
 * Both routes answer from plain (not async) handlers: a token without a usage
 * limit is admitted without a promise, and so is its answer — no promise for the
 * handler, none for fastify to adopt the reply through.
 */
function sendJson(reply: FastifyReply, body: string): void {
  reply.type('application/json; charset=utf-8').send(body as never);
}

const DAY_MS = 86_400_000;
const CATALOGUE_CACHE_SIZE = 1000;

function tokenOf(token: VerifiedToken | null): VerifiedToken {
  if (!token) throw new ProblemError('unauthorized', 'An API token is required.');
  return token;
}

export const analyticsRoutes =
  (ctx: PlatformContext): FastifyPluginAsyncZod =>
  async (app) => {
    app.addHook('onSend', (request, reply, payload, done) => {
      answerHeaders(ctx, request, reply);
      done(null, payload);
    });

    for (const url of ['/analytics/metrics', '/analytics/metrics/:name']) {
      app.options(
        url,
        {
          config: { auth: 'none' },
          schema: {
            tags: ['analytics'],
            summary:
              'CORS preflight: any origin may ask; the actual request is judged by the token',
            response: { 204: z.null().meta({ description: 'Preflight answered' }) },
          },
        },
        async (request, reply) => answerPreflight(request, reply),
      );
    }

    // By tier and scope list: the same strings on every request of a cached token.
    const catalogJson = new PairMap<string, string, string>();
    app.get(
      '/analytics/metrics',
      {
        config: { auth: 'token' },
        serializerCompiler: plainJson,
        schema: {
          tags: ['analytics'],
          summary: "Metrics the token's tier and scopes may read",
          security: tokenSecurity,
          response: { 200: MetricCatalog, ...problemResponses },
        },
      },
      (request, reply) => {
        const token = tokenOf(request.apiToken);
        const answer = () => {
          // The catalogue of a tier and scope list never changes while the process runs.
          const { tier, policy } = token;
          let body = catalogJson.get(tier, policy.scope);
          if (body === undefined) {
            if (catalogJson.size >= CATALOGUE_CACHE_SIZE) catalogJson.clear();
            body = catalogJson.set(
              tier,
              policy.scope,
              JSON.stringify({ tier, metrics: ctx.catalog.readableBy(tier, policy.scopes) }),
            );
          }
          sendJson(reply, body);
        };
        const admitting = admit(ctx, token, reply, null);
        if (admitting) return admitting.then(answer);
        answer();
      },
    );

    app.get(
      '/analytics/metrics/:name',
      {
        config: { auth: 'token' },
        serializerCompiler: plainJson,
        schema: {
          tags: ['analytics'],
          summary: 'Points of one metric for the token’s entity (default: the last 24 hours)',
          security: tokenSecurity,
          params: MetricParams,
          querystring: MetricQuery,
          response: { 200: MetricSeries, ...problemResponses },
        },
      },
      (request, reply) => {
        const token = tokenOf(request.apiToken);
        const { name } = request.params;
        const metric = ctx.catalog.get(name);
        if (!metric) throw new ProblemError('not-found', `No metric named "${name}".`);
        const to = request.query.to ? Date.parse(request.query.to) : ctx.clock();
        const from = request.query.from ? Date.parse(request.query.from) : to - DAY_MS;
        if (!(from < to)) {
          throw new ProblemError('validation', '`from` must be before `to`.', {
            errors: [{ path: 'query.from', message: 'must be before `to`' }],
          });
        }
        if (to - from > MAX_RANGE_MS) {
          throw new ProblemError('validation', 'The range may span at most 400 days.', {
            errors: [{ path: 'query.from', message: 'range longer than 400 days' }],
          });
        }
        const answer = () => sendJson(reply, seriesJson(name, token.entityId, from, to));
        const admitting = admit(ctx, token, reply, metric);
        if (admitting) return admitting.then(answer);
        answer();
      },
    );
  };

/** Analytics: the consumer of API tokens, gated by the token's tier. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ProblemError } from '../../domain/problems.ts';
import { MetricCatalog, MetricParams, MetricQuery, MetricSeries } from '../../schemas/index.ts';
import { MAX_RANGE_MS, seriesJson } from '../analytics.ts';
import type { PlatformContext } from '../context.ts';
import { problemResponses } from './common.ts';

const tokenSecurity = [{ apiToken: [] }];

/**
 * The hot path answers with plain JSON.stringify: its objects are built right
 * here, typed by the same schemas, so re-validating them on the way out (what
 * the zod serializer does) buys nothing. The schemas still document the routes.
 */
const plainJson = () => (data: unknown) => (typeof data === 'string' ? data : JSON.stringify(data));
const DAY_MS = 86_400_000;

export const analyticsRoutes =
  (ctx: PlatformContext): FastifyPluginAsyncZod =>
  async (app) => {
    const catalogJson = new Map<string, string>();
    app.get(
      '/analytics/metrics',
      {
        config: { auth: 'token' },
        serializerCompiler: plainJson,
        schema: {
          tags: ['analytics'],
          summary: "Metrics the token's tier may read",
          security: tokenSecurity,
          response: { 200: MetricCatalog, ...problemResponses },
        },
      },
      async (request, reply) => {
        const token = request.apiToken;
        if (!token) throw new ProblemError('unauthorized', 'An API token is required.');
        // The catalogue of a tier never changes while the process runs: serialise once.
        let body = catalogJson.get(token.tier);
        if (body === undefined) {
          body = JSON.stringify({ tier: token.tier, metrics: ctx.catalog.readableBy(token.tier) });
          catalogJson.set(token.tier, body);
        }
        return reply.type('application/json; charset=utf-8').send(body as never);
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
      async (request, reply) => {
        const token = request.apiToken;
        if (!token) throw new ProblemError('unauthorized', 'An API token is required.');
        const { name } = request.params;
        const metric = ctx.catalog.get(name);
        if (!metric) throw new ProblemError('not-found', `No metric named "${name}".`);
        if (!ctx.catalog.canRead(token.tier, metric)) {
          throw new ProblemError(
            'tier-insufficient',
            `Metric "${name}" needs tier "${metric.tier}"; this token's entity has tier "${token.tier}".`,
            { tier: token.tier, requiredTier: metric.tier },
          );
        }
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
        return reply
          .type('application/json; charset=utf-8')
          .send(seriesJson(name, token.entityId, from, to) as never);
      },
    );
  };

/** Health, readiness, Prometheus metrics, the tier table and the OpenAPI document. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { TierList } from '../../../core/schemas/index.ts';
import type { PlatformContext } from '../context.ts';

const Status = z.object({ status: z.string() });

export const metaRoutes =
  (
    ctx: PlatformContext,
    state: { ready: () => boolean; optionalBodies: ReadonlySet<string> },
  ): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/healthz',
      { schema: { tags: ['meta'], summary: 'Liveness', response: { 200: Status } } },
      async () => ({ status: 'ok' }),
    );

    app.get(
      '/readyz',
      {
        schema: {
          tags: ['meta'],
          summary: 'Readiness: the database answers',
          response: { 200: Status, 503: Status },
        },
      },
      async (_request, reply) => {
        if (!state.ready()) return reply.code(503).send({ status: 'shutting down' });
        try {
          await ctx.store.db.query('SELECT 1 AS ok');
          return { status: 'ready' };
        } catch {
          return reply.code(503).send({ status: 'database unavailable' });
        }
      },
    );

    app.get(
      '/metrics',
      { schema: { tags: ['meta'], summary: 'Prometheus metrics (text exposition format)' } },
      async (_request, reply) => {
        reply.type(ctx.metrics.registry.contentType);
        return ctx.metrics.registry.metrics();
      },
    );

    app.get(
      '/v1/tiers',
      { schema: { tags: ['meta'], summary: 'The tier table', response: { 200: TierList } } },
      async () => ({ items: ctx.tiers.tiers.map((t) => ({ ...t })) }),
    );

    let document: unknown;
    app.get(
      '/openapi.json',
      { schema: { tags: ['meta'], summary: 'This OpenAPI 3.1 document' } },
      async () => {
        if (document === undefined) {
          const doc = structuredClone(app.swagger()) as {
            paths?: Record<string, Record<string, { requestBody?: { required?: boolean } }>>;
          };
          for (const [path, operations] of Object.entries(doc.paths ?? {})) {
            for (const [method, operation] of Object.entries(operations)) {
              if (operation.requestBody && state.optionalBodies.has(`${method} ${path}`)) {
                operation.requestBody.required = false;
              }
            }
          }
          document = doc;
        }
        return document;
      },
    );
  };

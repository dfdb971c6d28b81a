/** The audit trail, filtered to the caller's subtree. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { AuditPage, AuditQuery } from '../../schemas/index.ts';
import { type PlatformContext, scopeOf } from '../context.ts';
import { managementSecurity, problemResponses } from './common.ts';

export const auditRoutes =
  (ctx: PlatformContext): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/audit-events',
      {
        config: { auth: 'management' },
        schema: {
          tags: ['audit'],
          summary: 'Audit events of mutations and reveals, oldest first',
          security: managementSecurity,
          querystring: AuditQuery,
          response: { 200: AuditPage, ...problemResponses },
        },
      },
      async (request) => ctx.repo.listAudit(scopeOf(request), request.query),
    );
  };

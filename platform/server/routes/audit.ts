/** The audit trail, filtered to the caller's subtree. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { AuditPage, AuditQuery } from '../../../core/schemas/index.ts';
import { listAudit } from '../../storage/audit.ts';
import { type PlatformContext, scopeOf } from '../context.ts';
import { managementRoute } from './common.ts';

export const auditRoutes =
  (ctx: PlatformContext): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/audit-events',
      managementRoute('audit', 'Audit events of mutations and reveals, oldest first', {
        querystring: AuditQuery,
        response: { 200: AuditPage },
      }),
      async (request) => listAudit(ctx.store, scopeOf(request), request.query),
    );
  };

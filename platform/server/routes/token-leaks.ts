/**
 * Leak reports: `POST /v1/token-leaks` in the shape of GitHub's secret-scanning
 * partner alerts. Administrator key only: a report disables tokens anywhere.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ProblemError } from '../../domain/problems.ts';
import { TokenLeakLabels, TokenLeakReport } from '../../schemas/index.ts';
import { reportLeaks } from '../../storage/leaks.ts';
import { type PlatformContext, principalOf, setAudit } from '../context.ts';
import { managementRoute } from './common.ts';

export const tokenLeakRoutes =
  (ctx: PlatformContext): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/token-leaks',
      managementRoute(
        'tokens',
        'Report leaked values (GitHub secret-scanning partner format): matching tokens are disabled at once and announced as token.exposed',
        { body: TokenLeakReport, response: { 200: TokenLeakLabels } },
      ),
      async (request) => {
        setAudit(request, {
          action: 'token.leak-report',
          targetType: 'token',
          targetId: null,
          entityId: null,
          detail: `${request.body.length} value(s) reported`,
        });
        const principal = principalOf(request);
        if (principal.type !== 'admin') {
          throw new ProblemError(
            'forbidden',
            'Only the administrator key reports leaked tokens; an access key cannot.',
          );
        }
        const { labels, exposed } = await reportLeaks(ctx.store, request.body, {
          actor: { type: principal.type, id: principal.id },
          requestId: String(request.id),
        });
        for (const id of exposed) {
          ctx.verifier.invalidateToken(id);
          ctx.metrics.tokensRevoked.inc({ reason: 'exposed' });
        }
        setAudit(request, {
          action: 'token.leak-report',
          targetType: 'token',
          targetId: null,
          entityId: null,
          detail: `${request.body.length} value(s) reported, ${exposed.length} matched a token`,
        });
        return labels;
      },
    );
  };

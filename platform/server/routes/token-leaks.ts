/**
 * Leak reports: `POST /v1/token-leaks` in the shape of GitHub's secret-scanning
 * partner alerts. Administrator key only: a report disables tokens anywhere.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ProblemError } from '../../domain/problems.ts';
import { TokenLeakLabels, TokenLeakReport } from '../../schemas/index.ts';
import { type Exposed, reportLeaks } from '../../storage/leaks.ts';
import { type AuditInfo, type PlatformContext, principalOf, setAudit } from '../context.ts';
import { mutate } from '../mutation.ts';
import { managementRoute } from './common.ts';

/** The audit event of one exposed token: where its value was found and what was done (never the value). */
function exposeAudit({ token, exposure }: Exposed): AuditInfo {
  const found = `${exposure.source ? ` (${exposure.source})` : ''}${
    exposure.url ? ` at ${exposure.url.slice(0, 500)}` : ''
  }`;
  return {
    action: 'token.expose',
    targetType: 'token',
    targetId: token.id,
    entityId: token.entityId,
    detail: `${exposure.value} value found${found}; ${
      exposure.value === 'current' ? 'token disabled' : 'rotation grace ended'
    }`,
  };
}

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
        const { labels } = await mutate(ctx, request, {
          write: (effects) => reportLeaks(ctx.store, request.body, effects),
          describe: ({ exposed }) => ({
            detail: `${request.body.length} value(s) reported, ${exposed.length} matched a token`,
          }),
          records: ({ exposed }) => exposed.map(exposeAudit),
          invalidates: ({ exposed }) => exposed.map(({ token }) => ({ tokenId: token.id })),
          announces: ({ exposed }) =>
            exposed.map(({ token, exposure }) => ({
              type: 'token.exposed' as const,
              data: { entityId: token.entityId, token, exposure },
            })),
          counts: ({ exposed }) =>
            exposed.length > 0 &&
            ctx.metrics.tokensRevoked.inc({ reason: 'exposed' }, exposed.length),
        });
        return labels;
      },
    );
  };

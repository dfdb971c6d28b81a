/**
 * Leak reports: `POST /v1/token-leaks` in the shape of GitHub's secret-scanning
 * partner alerts. The administrator key — a report disables tokens anywhere —
 * or, when the server knows the reporter's keys URL, the reporter's own
 * signature over the raw body (leak-signature.ts), as GitHub sends it.
 */

import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ProblemError } from '../../../core/domain/problems.ts';
import { TokenLeakLabels, TokenLeakReport } from '../../../core/schemas/index.ts';
import { type Exposed, reportLeaks } from '../../storage/leaks.ts';
import { type AuditInfo, type PlatformContext, principalOf } from '../context.ts';
import { jsonBodyParser } from '../json-body.ts';
import { KEY_ID_HEADER, SIGNATURE_HEADER, SIGNED_REPORTS } from '../leak-signature.ts';
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

/** The bytes the reporter signed, kept while the request lasts. */
const rawBodies = new WeakMap<FastifyRequest, Buffer>();

export const tokenLeakRoutes =
  (ctx: PlatformContext): FastifyPluginAsyncZod =>
  async (app) => {
    // This plugin's own JSON parser (encapsulated): the platform's, plus the raw bytes.
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
      rawBodies.set(request, body as Buffer);
      jsonBodyParser(request, body, done);
    });

    const route = managementRoute(
      'tokens',
      'Report leaked values (GitHub secret-scanning partner format): matching tokens are disabled at once and announced as token.exposed. Administrator key, or a GitHub-style signature (Github-Public-Key-Identifier, Github-Public-Key-Signature) when TOKENPLANE_LEAK_REPORT_KEYS_URL is set',
      { body: TokenLeakReport, response: { 200: TokenLeakLabels } },
      (request) => ({
        action: 'token.leak-report',
        targetType: 'token',
        targetId: null,
        entityId: null,
        detail: `${request.body.length} value(s) reported`,
      }),
    );
    app.post(
      '/token-leaks',
      {
        ...route,
        config: { ...route.config, auth: 'leak-report' as const },
        preValidation: async (request) => {
          if (!request.principal) request.principal = await signedBy(ctx, request);
        },
      },
      async (request) => {
        const principal = principalOf(request);
        if (principal.scope !== null) {
          throw new ProblemError(
            'forbidden',
            `Only the administrator key reports leaked tokens; an access key or member cannot. ${SIGNED_REPORTS}`,
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

/** The reporter whose key signed this body; 401 otherwise, saying what was wrong. */
async function signedBy(ctx: PlatformContext, request: FastifyRequest) {
  const signature = request.headers[SIGNATURE_HEADER];
  const keyId = request.headers[KEY_ID_HEADER];
  if (!ctx.leakSignatures) {
    throw new ProblemError(
      'unauthorized',
      `This server takes no signed leak reports: start it with TOKENPLANE_LEAK_REPORT_KEYS_URL, or send the administrator key as "Authorization: Bearer <key>". ${SIGNED_REPORTS}`,
    );
  }
  if (typeof signature !== 'string' || typeof keyId !== 'string' || keyId === '') {
    throw new ProblemError(
      'signature-invalid',
      'A signed leak report carries both Github-Public-Key-Identifier and Github-Public-Key-Signature.',
    );
  }
  const body = rawBodies.get(request) ?? Buffer.alloc(0);
  if (!(await ctx.leakSignatures.verify(body, keyId, signature))) {
    throw new ProblemError(
      'signature-invalid',
      'The leak report’s signature does not verify: Github-Public-Key-Signature must be the ' +
        'base64 ECDSA (SHA-256) signature of the exact body, by the key that ' +
        'Github-Public-Key-Identifier names among those at the configured keys URL.',
    );
  }
  return { type: 'secret-scanner' as const, id: keyId, role: 'viewer' as const, scope: null };
}

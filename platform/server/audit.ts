/**
 * The audit trail: every mutation and every reveal, successful or not, becomes
 * one event (actor, action, target, outcome, request id; never a secret). Routes
 * describe themselves with `setAudit`; this hook writes the event before the
 * response leaves, so a client that reads the trail right after sees it.
 */
import type { FastifyInstance } from 'fastify';
import { recordAudit } from '../storage/audit.ts';
import { getToken } from '../storage/tokens.ts';
import { actorOf, type PlatformContext } from './context.ts';

export function installAudit(app: FastifyInstance, ctx: PlatformContext): void {
  app.addHook('onSend', async (request, reply, payload) => {
    const info = request.audit;
    const principal = request.principal;
    if (!info || !principal) return payload;
    const ok = reply.statusCode < 400;
    if (ok && request.auditRecorded) return payload;
    try {
      let entityId = info.entityId;
      if (entityId === null && info.targetType === 'token' && info.targetId) {
        // a refusal before the route learnt the token's entity: look it up for the trail
        entityId = (await getToken(ctx.store, null, info.targetId))?.value.entityId ?? null;
      }
      await recordAudit(ctx.store, {
        actor: actorOf(principal),
        action: info.action,
        targetType: info.targetType,
        targetId: info.targetId,
        entityId,
        outcome: ok ? 'success' : 'failure',
        requestId: String(request.id),
        detail: ok ? (info.detail ?? null) : (request.problemSlug ?? `status ${reply.statusCode}`),
      });
    } catch (error) {
      ctx.warnings.write(request.log, 'error', { err: error }, 'could not record audit event');
    }
    return payload;
  });
}

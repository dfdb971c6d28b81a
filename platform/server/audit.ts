/**
 * The audit trail: every mutation and every reveal, successful or not, becomes
 * one event (actor, action, target, outcome, request id; never a secret). A
 * route declares what it audits (`config.audit`); this plugin takes it from the
 * validated request. A success is written by the mutation path in the change's
 * own transaction (mutation.ts); a refusal here, before the response leaves,
 * so a client that reads the trail right after sees it.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type NewAuditEvent, recordAudit } from '../storage/audit.ts';
import { visible } from '../storage/scope.ts';
import { getToken } from '../storage/tokens.ts';
import { type AuditInfo, actorOf, type PlatformContext, type Principal } from './context.ts';

export function installAudit(app: FastifyInstance, ctx: PlatformContext): void {
  app.addHook('preHandler', (request, _reply, done) => {
    const declared = request.routeOptions.config.audit as
      | ((request: FastifyRequest) => AuditInfo)
      | undefined;
    if (declared) request.audit = declared(request);
    done();
  });
  // A callback hook: only a refusal waits (for its event to be written).
  app.addHook('onSend', (request, reply, payload, done) => {
    const info = request.audit;
    const principal = request.principal;
    if (!info || !principal || reply.statusCode < 400) return done(null, payload);
    const send = () => done(null, payload);
    recordRefusal(ctx, request, reply.statusCode, info, principal).then(send, send);
  });
}

/** The refusal's event, in each trail that keeps it; a failure to write it is logged, not answered. */
async function recordRefusal(
  ctx: PlatformContext,
  request: FastifyRequest,
  statusCode: number,
  info: AuditInfo,
  principal: Principal,
): Promise<void> {
  try {
    let entityId = info.entityId;
    if (entityId === null && info.targetType === 'token' && info.targetId) {
      // a refusal before the route learnt the token's entity: look it up for the trail
      entityId = (await getToken(ctx.store, null, info.targetId))?.value.entityId ?? null;
    }
    const event: NewAuditEvent = {
      actor: actorOf(principal),
      action: info.action,
      targetType: info.targetType,
      targetId: info.targetId,
      entityId,
      outcome: 'failure',
      requestId: String(request.id),
      detail: request.problemSlug ?? `status ${statusCode}`,
    };
    await recordAudit(ctx.store, ...(await refusalTrails(ctx, principal, info, event)));
  } catch (error) {
    ctx.warnings.write(request.log, 'error', { err: error }, 'could not record audit event');
  }
}

/**
 * Where a refusal is recorded. The target's entity keeps it, for its own
 * auditors. When that entity is outside the acting key's subtree — a key probing
 * another entity's objects — or the target does not exist, the key's own entity
 * records it too, so its auditors see what their key tried. That copy names only
 * what the request itself named (the target id it sent, or the entity it named
 * for a create), never the owner it found, and reads the same whether or not the
 * target exists — as the 404 the key got does.
 */
async function refusalTrails(
  ctx: PlatformContext,
  principal: Principal,
  info: AuditInfo,
  event: NewAuditEvent,
): Promise<NewAuditEvent[]> {
  const scope = principal.scope;
  if (scope === null || event.entityId === scope) return [event];
  if (event.entityId !== null && (await visible(ctx.store.db, scope, event.entityId))) {
    return [event];
  }
  const named =
    info.targetId === null && info.entityId !== null ? ` (entity ${info.entityId})` : '';
  const own = { ...event, entityId: scope, detail: `${event.detail}${named}` };
  // Without an entity, only the administrator would see the event: the key's own one suffices.
  return event.entityId === null ? [own] : [event, own];
}

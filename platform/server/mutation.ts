/**
 * The one path of every mutation route. The route declares what it audits
 * (`config.audit`) and says who may do it (`requireWriter`), then hands `mutate`:
 * - `write(effects)`: the storage call, which runs `effects` inside its own
 *   transaction after the change (storage/effects.ts);
 * - `describe(written)`: what the success event says beyond `config.audit`, known
 *   only from the result; `records(written)`: further audit events, one per
 *   object the change touched (a leak report's tokens);
 * - `invalidates(written)`: the verifications the change may have made wrong
 *   (a token, or every token of an entity) — said, not forgotten;
 * - `announces(written)`: its webhook events;
 * - `counts(result)`: its metrics.
 *
 * In the change's transaction `mutate` writes the audit events, the webhook
 * events into the outbox and, on PostgreSQL, the revocation notices other
 * servers listen for: all of them commit with the change or not at all (so
 * every success is audited here; audit.ts records the failures). After the
 * commit it drops this server's cached verifications, wakes the webhook
 * sender when the outbox got deliveries, and counts. An idempotent replay
 * changed nothing: it is audited as a replay and nothing else. Storage never
 * calls back into the server.
 */
import type { FastifyRequest } from 'fastify';
import type {
  Token,
  TokenWithValue,
  WebhookEventType,
  WebhookPayload,
} from '../../core/schemas/index.ts';
import { insertAudit, type NewAuditEvent } from '../storage/audit.ts';
import type { Effects } from '../storage/effects.ts';
import { announceRevocation } from '../storage/revocations.ts';
import type { SqlTx } from '../storage/sql.ts';
import { emitEvent } from '../storage/webhooks.ts';
import { type AuditInfo, actorOf, type PlatformContext, principalOf } from './context.ts';

/** A verification a change may have made wrong: one token's (and its usage lease), or an entity's tokens'. */
export type Stale = { tokenId: string; usage?: boolean } | { entityId: string };

/**
 * A webhook event of a change (README "Lifecycle events, leak response, revocation across servers"). `via`: whose webhooks (and its
 * ancestors') hear it, when not the entity's own — its parent, when the change
 * deleted the entity.
 */
export type Announcement = {
  type: WebhookEventType;
  data: WebhookPayload['data'];
  via?: string | null;
};

/** What the change wrote: the created object of an idempotent create, else the result. */
type Written<R> = R extends { result: infer Created; replayed: boolean } ? Created : R;

export type Mutation<R> = {
  write(effects: Effects<unknown>): Promise<R>;
  describe?(written: Written<R>): Partial<AuditInfo>;
  records?(written: Written<R>): AuditInfo[];
  invalidates(written: Written<R>): Stale[];
  announces?(written: Written<R>): Announcement[];
  counts?(result: R): void;
};

export async function mutate<R>(
  ctx: PlatformContext,
  request: FastifyRequest,
  m: Mutation<R>,
): Promise<R> {
  const principal = principalOf(request);
  const trail = (info: AuditInfo): NewAuditEvent => ({
    actor: actorOf(principal),
    requestId: String(request.id),
    outcome: 'success',
    action: info.action,
    targetType: info.targetType,
    targetId: info.targetId,
    entityId: info.entityId,
    detail: info.detail ?? null,
  });
  let stale: Stale[] = [];
  let outbox = false;
  const effects = async (tx: SqlTx, result: unknown, replayed: boolean) => {
    const written = result as Written<R>;
    const own = { ...(request.audit as AuditInfo), ...m.describe?.(written) };
    await insertAudit(
      ctx.store,
      tx,
      trail(replayed ? { ...own, detail: 'idempotent-replay' } : own),
    );
    // A transaction retried after a lost race runs this again: start clean.
    stale = [];
    outbox = false;
    if (replayed) return;
    for (const info of m.records?.(written) ?? []) await insertAudit(ctx.store, tx, trail(info));
    stale = m.invalidates(written);
    for (const target of stale) await announceRevocation(ctx.store, tx, target);
    for (const event of m.announces?.(written) ?? []) {
      outbox = (await emitEvent(ctx.store, tx, event.type, event.data, event.via)) || outbox;
    }
  };
  const result = await m.write(effects as Effects<unknown>);
  for (const target of stale) {
    if ('entityId' in target) ctx.verifier.invalidateEntity(target.entityId);
    else {
      ctx.verifier.invalidateToken(target.tokenId);
      if (target.usage) ctx.usage.release(target.tokenId);
    }
  }
  if (outbox) ctx.sender.wake();
  m.counts?.(result);
  return result;
}

type TokenEventType = 'token.created' | 'token.updated' | 'token.rotated' | 'token.deleted';

/** The event of a token change; a value the result may hold never goes into a payload. */
export function tokenEvent(type: TokenEventType, token: Token | TokenWithValue): Announcement {
  const { value: _value, ...rest } = token as TokenWithValue;
  return { type, data: { entityId: token.entityId, token: rest } };
}

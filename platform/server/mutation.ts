/**
 * The one path of every mutation route. The route says what it does
 * (`setAudit`) and who may do it (`requireWriter`), then hands `mutate`:
 * - `write(audit)`: the repository call. The repository writes the success
 *   event — `setAudit`'s description, refined by `describe` from the result —
 *   in the mutation's own transaction, so a change is never without its trail;
 * - `invalidates(result)`: the cached verifications the change may have made
 *   wrong (a token, or every token of an entity), or null — said, not forgotten;
 * - `counts(result)`: its metrics.
 * `mutate` then marks the request audited (the onSend hook records only
 * failures), drops those verifications and counts. Storage never calls back
 * into the server.
 */
import type { FastifyRequest } from 'fastify';
import type { AuditWith } from '../storage/audit.ts';
import { type AuditInfo, type PlatformContext, principalOf } from './context.ts';

/** What a change may have made wrong in the verification cache. */
export type Invalidation =
  | { tokenId: string /** its usage lease too */; usage?: boolean }
  | { entityId: string }
  | null;

/** What the audit event describes: the created object of an idempotent create, else the result. */
type Audited<R> = R extends { result: infer Created; replayed: boolean } ? Created : R;

export type Mutation<R> = {
  /** `audit` describes whatever the call returns: the type of `describe`'s argument. */
  write(audit: AuditWith<unknown>): Promise<R>;
  /** What the success event says beyond `setAudit`, known only from the result. */
  describe?(result: Audited<R>): Partial<AuditInfo>;
  invalidates(result: R): Invalidation;
  counts?(result: R): void;
};

export async function mutate<R>(
  ctx: PlatformContext,
  request: FastifyRequest,
  m: Mutation<R>,
): Promise<R> {
  const principal = principalOf(request);
  const result = await m.write({
    actor: { type: principal.type, id: principal.id },
    requestId: String(request.id),
    describe: (written, replayed) => {
      const info = { ...(request.audit as AuditInfo), ...m.describe?.(written as Audited<R>) };
      return {
        action: info.action,
        targetType: info.targetType,
        targetId: info.targetId,
        entityId: info.entityId,
        detail: replayed ? 'idempotent-replay' : (info.detail ?? null),
      };
    },
  });
  request.auditRecorded = true;
  const stale = m.invalidates(result);
  if (stale && 'entityId' in stale) ctx.verifier.invalidateEntity(stale.entityId);
  else if (stale) {
    ctx.verifier.invalidateToken(stale.tokenId);
    if (stale.usage) ctx.usage.release(stale.tokenId);
  }
  m.counts?.(result);
  return result;
}

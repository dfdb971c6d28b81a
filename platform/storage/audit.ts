/**
 * Audit events: recorded on their own (failures, reads) or, by the mutation
 * path (effects.ts), in the same write transaction as the change they
 * describe; listed by scope.
 */
import { uuidv7 } from '../../core/crypto/ids.ts';
import type { AuditEvent } from '../../core/schemas/index.ts';
import { decodeCursor, type Page, type PageRequest, paginate } from './pagination.ts';
import { notFound } from './problems.ts';
import { auditFromRow } from './rows.ts';
import { type Scope, SUBTREE, visible } from './scope.ts';
import type { Row, SqlTx } from './sql.ts';
import type { Store } from './store.ts';

export type NewAuditEvent = Omit<AuditEvent, 'id' | 'at'>;

/** Records events together (a refusal may belong in two entities' trails). */
export async function recordAudit(store: Store, ...events: NewAuditEvent[]): Promise<void> {
  await store.db.transaction(async (tx) => {
    for (const event of events) await insertAudit(store, tx, event);
  });
}

export async function insertAudit(store: Store, tx: SqlTx, event: NewAuditEvent): Promise<void> {
  const now = store.clock();
  await tx.run(
    `INSERT INTO audit_events (id, at, actor_type, actor_id, action, target_type, target_id,
       entity_id, outcome, request_id, detail, actor_email)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [
      uuidv7(now),
      new Date(now).toISOString(),
      event.actor.type,
      event.actor.id,
      event.action,
      event.targetType,
      event.targetId,
      event.entityId,
      event.outcome,
      event.requestId,
      event.detail,
      event.actor.email ?? null,
    ],
  );
}

export async function listAudit(
  store: Store,
  scope: Scope,
  query: PageRequest & { entityId?: string | undefined },
): Promise<Page<AuditEvent>> {
  const { db } = store;
  const after = decodeCursor(query.cursor);
  let rows: Row[];
  if (query.entityId !== undefined) {
    // Events of a deleted entity stay readable by the administrator.
    if (scope !== null && !(await visible(db, scope, query.entityId))) {
      throw notFound('entity', query.entityId);
    }
    rows = await db.query(
      'SELECT * FROM audit_events WHERE entity_id = $1 AND id > $2 ORDER BY id LIMIT $3',
      [query.entityId, after, query.limit + 1],
    );
  } else if (scope !== null) {
    rows = await db.query(
      `${SUBTREE} SELECT * FROM audit_events WHERE entity_id IN (SELECT id FROM down)
         AND id > $2 ORDER BY id LIMIT $3`,
      [scope, after, query.limit + 1],
    );
  } else {
    rows = await db.query('SELECT * FROM audit_events WHERE id > $1 ORDER BY id LIMIT $2', [
      after,
      query.limit + 1,
    ]);
  }
  return paginate(rows.map(auditFromRow), query.limit);
}

/**
 * Rows an entity owns beside its tokens — access keys, webhooks, members —
 * kept the same way: created under the locked entity, listed per entity, found
 * by id within the caller's scope, deleted with their effects, and a create
 * replayed only while its row still exists. Table names come from TABLE,
 * never from input.
 */
import { type Effects, withEffects } from './effects.ts';
import {
  type Idempotency,
  type Idempotent,
  idempotent,
  type ReplayGuard,
  replayGone,
} from './idempotency.ts';
import { lockEntity } from './locks.ts';
import { notFound } from './problems.ts';
import { type Scope, visible } from './scope.ts';
import type { Row, SqlTx } from './sql.ts';
import type { Store } from './store.ts';

const TABLE = {
  entity: 'entities',
  'access key': 'access_keys',
  webhook: 'webhooks',
  member: 'members',
} as const;
type Owned = Exclude<keyof typeof TABLE, 'entity'>;

/** A create's replay hands out its response (and secret) again only while what it created exists. */
export function replayWhileExists<T extends { id: string }>(
  kind: keyof typeof TABLE,
): ReplayGuard<T> {
  return async (tx, stored) => {
    const [row] = await tx.query(`SELECT 1 AS ok FROM ${TABLE[kind]} WHERE id = $1`, [stored.id]);
    return row ? null : replayGone(kind, stored.id, 'was deleted since');
  };
}

/** The entity's rows of that kind, oldest first; 404 for an entity outside the caller's scope. */
export async function listOwned(
  store: Store,
  scope: Scope,
  kind: Owned,
  columns: string,
  entityId: string,
): Promise<Row[]> {
  if (!(await visible(store.db, scope, entityId))) throw notFound('entity', entityId);
  return store.db.query(`SELECT ${columns} FROM ${TABLE[kind]} WHERE entity_id = $1 ORDER BY id`, [
    entityId,
  ]);
}

/** The row with that id when its entity is inside the caller's scope; else 404 naming the kind. */
export async function findOwned(q: SqlTx, scope: Scope, kind: Owned, id: string): Promise<Row> {
  const [row] = await q.query(`SELECT * FROM ${TABLE[kind]} WHERE id = $1`, [id]);
  if (!row || !(await visible(q, scope, String(row.entity_id)))) throw notFound(kind, id);
  return row;
}

/**
 * A create under an entity: one idempotent transaction that locks the entity
 * (404 when it is outside the caller's scope) and then runs `insert`; a replay
 * answers while the created row exists.
 */
export function createOwned<T extends { id: string }>(
  store: Store,
  scope: Scope,
  kind: Owned,
  entityId: string,
  idem: Idempotency | undefined,
  effects: Effects<T>,
  insert: (tx: SqlTx) => Promise<T>,
): Promise<Idempotent<T>> {
  return idempotent(store, idem, effects, replayWhileExists(kind), async (tx) => {
    if (!(await lockEntity(store.db, tx, scope, entityId))) throw notFound('entity', entityId);
    return insert(tx);
  });
}

/**
 * Deletes the row with that id (404 as `findOwned`) in one transaction with the
 * change's effects, after `dependents` (rows that name it without a cascade);
 * `answer` says from the row what was deleted.
 */
export function deleteOwned<T>(
  store: Store,
  scope: Scope,
  kind: Owned,
  id: string,
  effects: Effects<T>,
  answer: (row: Row) => T,
  dependents: readonly string[] = [],
): Promise<T> {
  return withEffects(store, effects, async (tx) => {
    const row = await findOwned(tx, scope, kind, id);
    for (const statement of dependents) await tx.run(statement, [id]);
    await tx.run(`DELETE FROM ${TABLE[kind]} WHERE id = $1`, [id]);
    return answer(row);
  });
}

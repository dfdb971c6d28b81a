/**
 * Row locks for write transactions. SQLite serialises write transactions
 * (`BEGIN IMMEDIATE`), so `forUpdate` is empty there; PostgreSQL locks the
 * entity row (`SELECT … FOR UPDATE`) before counting its tokens, and the parent
 * row before judging a child's tier, so that no interleaving of concurrent
 * requests can overshoot a quota or break a ceiling.
 */
import type { Token } from '../../core/schemas/index.ts';
import { notFound } from './problems.ts';
import { TOKEN_COLUMNS, tokenFromRow, type Versioned } from './rows.ts';
import { type Scope, visible } from './scope.ts';
import type { SqlDriver, SqlTx } from './sql.ts';

export type LockedEntity = {
  id: string;
  name: string;
  kind: string;
  tier: string;
  version: number;
};

/** Locks an entity row for the rest of the transaction; null when absent or out of scope. */
export async function lockEntity(
  db: SqlDriver,
  tx: SqlTx,
  scope: Scope,
  id: string,
): Promise<LockedEntity | null> {
  const rows = await tx.query(
    `SELECT id, name, kind, tier, version FROM entities WHERE id = $1 ${db.forUpdate}`,
    [id],
  );
  const r = rows[0];
  if (!r) return null;
  if (scope !== null && !(await visible(tx, scope, id))) return null;
  return {
    id: String(r.id),
    name: String(r.name),
    kind: String(r.kind),
    tier: String(r.tier),
    version: Number(r.version),
  };
}

/** Locks a token row for the rest of the transaction; not-found when absent or out of scope. */
export async function lockToken(
  db: SqlDriver,
  tx: SqlTx,
  scope: Scope,
  id: string,
): Promise<Versioned<Token>> {
  const rows = await tx.query(
    `SELECT ${TOKEN_COLUMNS} FROM tokens t WHERE t.id = $1 ${db.forUpdate}`,
    [id],
  );
  const row = rows[0];
  if (!row || !(await visible(tx, scope, String(row.entity_id)))) {
    throw notFound('token', id);
  }
  return tokenFromRow(row);
}

/** Call with the entity locked, so that the count stays true until commit. */
export async function tokenCount(tx: SqlTx, entityId: string): Promise<number> {
  const rows = await tx.query('SELECT COUNT(*) AS n FROM tokens WHERE entity_id = $1', [entityId]);
  return Number(rows[0]?.n ?? 0);
}

/**
 * Entities (resellers and customers) in their tree: create under a parent
 * (within its tier ceiling), read, list, update (re-checking ceiling, children
 * and quota when the tier changes) and delete (leaves first).
 */
import { uuidv7 } from '../../core/crypto/ids.ts';
import { ProblemError, validationProblem, violationProblem } from '../../core/domain/problems.ts';
import {
  checkCeiling,
  checkDowngradeQuota,
  checkDowngradeScopes,
  checkGovernance,
  checkParentDowngrade,
  checkQuota,
  type GovernedChange,
} from '../../core/domain/rules.ts';
import type {
  CreateEntityRequest,
  CreateEntityResponse,
  Entity,
  Token,
  TokenWithValue,
  UpdateEntityRequest,
} from '../../core/schemas/index.ts';
import { type Effects, withEffects } from './effects.ts';
import { type Idempotency, type Idempotent, idempotent } from './idempotency.ts';
import { type LockedEntity, lockEntity, tokenCount } from './locks.ts';
import { replayWhileExists } from './owned.ts';
import { decodeCursor, type Page, type PageRequest, paginate } from './pagination.ts';
import { notFound, preconditionFailed, unknownTier } from './problems.ts';
import {
  ENTITY_COLUMNS,
  entityFromRow,
  TOKEN_COLUMNS,
  tokenFromRow,
  type Versioned,
} from './rows.ts';
import { type Scope, SUBTREE, visible } from './scope.ts';
import type { SqlTx } from './sql.ts';
import { nowIso, type Store } from './store.ts';
import { insertToken, valueGone } from './tokens.ts';

export async function createEntity(
  store: Store,
  scope: Scope,
  input: CreateEntityRequest,
  idem: Idempotency | undefined,
  effects: Effects<CreateEntityResponse>,
): Promise<Idempotent<CreateEntityResponse>> {
  const { tiers } = store;
  const tierName = input.tier ?? tiers.defaultTier.name;
  if (!tiers.find(tierName)) throw unknownTier(tiers, tierName);
  const parentId = input.parentId ?? null;
  if (parentId === null && scope !== null) {
    throw new ProblemError(
      'forbidden',
      'Only the platform administrator creates top-level entities; give a parentId inside your subtree.',
    );
  }
  const exists = replayWhileExists<CreateEntityResponse>('entity');
  const guard = async (tx: SqlTx, stored: CreateEntityResponse) =>
    (await exists(tx, stored)) ??
    (stored.defaultToken ? valueGone(store, tx, stored.defaultToken, stored.id) : null);
  return idempotent(store, idem, effects, guard, async (tx) => {
    if (parentId !== null) {
      const parent = await lockEntity(store.db, tx, scope, parentId);
      if (!parent) throw notFound('entity', parentId);
      if (parent.kind !== 'reseller') {
        throw validationProblem([
          { path: 'parentId', message: 'a customer cannot have children; choose a reseller' },
        ]);
      }
      const ceiling = checkCeiling(tiers, tierName, parent.tier, `parent "${parent.name}"`);
      if (ceiling) throw violationProblem(ceiling);
    }
    const now = nowIso(store);
    const id = uuidv7(store.clock());
    await tx.run(
      `INSERT INTO entities (id, name, kind, parent_id, tier, version, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, 1, $6, $6)`,
      [id, input.name, input.kind, parentId, tierName, now],
    );
    let defaultToken: TokenWithValue | undefined;
    if (input.defaultToken !== false) {
      const quota = checkQuota(tiers, tierName, 0, 1, `entity "${input.name}"`);
      if (quota) throw violationProblem(quota);
      defaultToken = await insertToken(store, tx, id, { name: 'default' });
    }
    const entity = await readEntity(store, tx, id);
    if (!entity) throw new Error('entity vanished inside its own transaction');
    return defaultToken ? { ...entity.value, defaultToken } : entity.value;
  });
}

export async function getEntity(
  store: Store,
  scope: Scope,
  id: string,
): Promise<Versioned<Entity> | null> {
  if (!(await visible(store.db, scope, id))) return null;
  return readEntity(store, store.db, id);
}

export async function listEntities(
  store: Store,
  scope: Scope,
  query: PageRequest & { parentId?: string | undefined; search?: string | undefined },
): Promise<Page<Entity>> {
  const after = decodeCursor(query.cursor);
  // $3 is the search pattern ('%' when there is none): one statement per shape.
  const params: unknown[] = [after, query.limit + 1, likePattern(query.search)];
  const match = `e.id > $1 AND LOWER(e.name) LIKE LOWER($3) ESCAPE '\\'`;
  let sql: string;
  if (query.parentId !== undefined) {
    if (!(await visible(store.db, scope, query.parentId))) {
      throw notFound('entity', query.parentId);
    }
    params.push(query.parentId);
    sql = `SELECT ${ENTITY_COLUMNS} FROM entities e WHERE e.parent_id = $4 AND ${match} ORDER BY e.id LIMIT $2`;
  } else if (scope !== null) {
    params.push(scope);
    sql = `${SUBTREE.replace('$1', '$4')} SELECT ${ENTITY_COLUMNS} FROM entities e
      WHERE e.id IN (SELECT id FROM down) AND ${match} ORDER BY e.id LIMIT $2`;
  } else {
    sql = `SELECT ${ENTITY_COLUMNS} FROM entities e WHERE ${match} ORDER BY e.id LIMIT $2`;
  }
  const rows = await store.db.query(sql, params);
  return paginate(
    rows.map((r) => entityFromRow(store.tiers, r).value),
    query.limit,
  );
}

/** A LIKE pattern for "name contains `search`" (wildcards taken literally); SQL lowers both sides alike. */
function likePattern(search: string | undefined): string {
  if (!search) return '%';
  return `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export async function updateEntity(
  store: Store,
  scope: Scope,
  id: string,
  patch: UpdateEntityRequest,
  ifMatch: ((etag: string) => boolean) | undefined,
  effects: Effects<{ entity: Versioned<Entity>; tierChanged: boolean }>,
): Promise<{ entity: Versioned<Entity>; tierChanged: boolean }> {
  if (patch.tier !== undefined && !store.tiers.find(patch.tier)) {
    throw unknownTier(store.tiers, patch.tier);
  }
  return withEffects(store, effects, async (tx) => {
    // Lock order is always ancestor first: a parent's downgrade and a child's
    // upgrade then serialise on the parent's row.
    const peek = await tx.query('SELECT parent_id FROM entities WHERE id = $1', [id]);
    if (peek.length === 0 || !(await visible(tx, scope, id))) throw notFound('entity', id);
    const parentId = peek[0]?.parent_id as string | null;
    const parent = parentId ? await lockEntity(store.db, tx, null, parentId) : null;
    const current = await lockEntity(store.db, tx, scope, id);
    if (!current) throw notFound('entity', id);
    const changes: GovernedChange[] = [];
    if (patch.tier !== undefined) changes.push('tier');
    if (patch.name !== undefined) changes.push('name');
    const governance = checkGovernance(scope, current, changes, parent?.name ?? null);
    if (governance) throw violationProblem(governance);
    if (ifMatch && !ifMatch((await readEntity(store, tx, id))?.etag ?? '')) {
      throw preconditionFailed('entity', id);
    }
    const tierChanged = patch.tier !== undefined && patch.tier !== current.tier;
    if (tierChanged && patch.tier !== undefined) {
      await checkTierChange(store, tx, current, parent, patch.tier);
    }
    if (patch.name !== undefined || tierChanged) {
      await tx.run(
        `UPDATE entities SET name = $2, tier = $3, version = version + 1, updated_at = $4 WHERE id = $1`,
        [id, patch.name ?? current.name, patch.tier ?? current.tier, nowIso(store)],
      );
    }
    const entity = await readEntity(store, tx, id);
    if (!entity) throw notFound('entity', id);
    return { entity, tierChanged };
  });
}

/**
 * A new tier must stay under the parent's ceiling, above every child's tier,
 * hold the tokens the entity already has and include every scope they hold. Call with parent and entity locked.
 */
async function checkTierChange(
  store: Store,
  tx: SqlTx,
  current: LockedEntity,
  parent: LockedEntity | null,
  tier: string,
): Promise<void> {
  const label = `entity "${current.name}"`;
  if (parent) {
    const v = checkCeiling(store.tiers, tier, parent.tier, `parent "${parent.name}"`);
    if (v) throw violationProblem(v);
  }
  const children = await tx.query('SELECT tier FROM entities WHERE parent_id = $1', [current.id]);
  const down = checkParentDowngrade(
    store.tiers,
    tier,
    children.map((c) => String(c.tier)),
    label,
  );
  if (down) throw violationProblem(down);
  const count = await tokenCount(tx, current.id);
  const quota = checkDowngradeQuota(store.tiers, tier, count, label);
  if (quota) throw violationProblem(quota);
  const tokens = await tx.query('SELECT id, name, scopes FROM tokens WHERE entity_id = $1', [
    current.id,
  ]);
  const scopes = checkDowngradeScopes(
    store.tiers,
    tier,
    tokens.map((t) => ({
      id: String(t.id),
      name: String(t.name),
      scopes: JSON.parse(String(t.scopes)) as string[],
    })),
    label,
  );
  if (scopes) throw violationProblem(scopes);
}

export async function deleteEntity(
  store: Store,
  scope: Scope,
  id: string,
  effects: Effects<{ tokens: Token[]; parentId: string | null }>,
): Promise<{ tokens: Token[]; parentId: string | null }> {
  return withEffects(store, effects, async (tx) => {
    const current = await lockEntity(store.db, tx, scope, id);
    if (!current) throw notFound('entity', id);
    const governance = checkGovernance(scope, current, ['deletion'], await parentName(tx, id));
    if (governance) throw violationProblem(governance);
    const children = await tx.query('SELECT COUNT(*) AS n FROM entities WHERE parent_id = $1', [
      id,
    ]);
    const n = Number(children[0]?.n ?? 0);
    if (n > 0) {
      throw new ProblemError(
        'has-children',
        `Entity "${current.name}" has ${n} child entit${n === 1 ? 'y' : 'ies'}; delete them first.`,
        { children: n },
      );
    }
    const removed = await tx.query(`SELECT ${TOKEN_COLUMNS} FROM tokens t WHERE t.entity_id = $1`, [
      id,
    ]);
    const tokens = removed.map((r) => tokenFromRow(r).value);
    const [row] = await tx.query('SELECT parent_id FROM entities WHERE id = $1', [id]);
    await tx.run('DELETE FROM tokens WHERE entity_id = $1', [id]);
    await tx.run('DELETE FROM access_keys WHERE entity_id = $1', [id]);
    await tx.run('DELETE FROM entities WHERE id = $1', [id]);
    return { tokens, parentId: (row?.parent_id as string | null | undefined) ?? null };
  });
}

async function parentName(q: SqlTx, id: string): Promise<string | null> {
  const rows = await q.query(
    'SELECT p.name FROM entities e JOIN entities p ON p.id = e.parent_id WHERE e.id = $1',
    [id],
  );
  return rows[0] ? String(rows[0].name) : null;
}

async function readEntity(store: Store, q: SqlTx, id: string): Promise<Versioned<Entity> | null> {
  const rows = await q.query(`SELECT ${ENTITY_COLUMNS} FROM entities e WHERE e.id = $1`, [id]);
  return rows[0] ? entityFromRow(store.tiers, rows[0]) : null;
}

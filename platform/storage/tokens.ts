/**
 * API tokens: create (within the entity's tier quota), read, update, delete,
 * reveal and rotate. What the verifier reads on the hot path is
 * token-lookups.ts.
 */

import { isDeepStrictEqual } from 'node:util';
import { uuidv7 } from '../../core/crypto/ids.ts';
import {
  defaultScopes,
  permissionProblems,
  permissionsWithDefaults,
  type TokenType,
} from '../../core/domain/permissions.ts';
import { ProblemError, validationProblem, violationProblem } from '../../core/domain/problems.ts';
import { checkQuota, checkScopeCeiling } from '../../core/domain/rules.ts';
import { generateSecret, type SecretKind, secretHint } from '../../core/domain/secret-format.ts';
import type {
  CreateTokenRequest,
  Token,
  TokenWithValue,
  UpdateTokenRequest,
} from '../../core/schemas/index.ts';
import { type Effects, withEffects } from './effects.ts';
import { type Idempotency, type Idempotent, idempotent, replayGone } from './idempotency.ts';
import { lockEntity, lockToken, tokenCount } from './locks.ts';
import { decodeCursor, type Page, type PageRequest, paginate } from './pagination.ts';
import { notFound, preconditionFailed } from './problems.ts';
import { graceEnd, keepReplacedValue } from './replaced-values.ts';
import {
  normaliseTime,
  permissionParams,
  type StoredPermissions,
  TOKEN_COLUMNS,
  tokenFromRow,
  type Versioned,
} from './rows.ts';
import { type Scope, visible } from './scope.ts';
import type { SqlTx } from './sql.ts';
import { nowIso, type Store } from './store.ts';
import { usageOf, withUsage, withUsageOne } from './usage.ts';

const VALUE_KIND: Record<TokenType, SecretKind> = {
  secret: 'apiToken',
  publishable: 'publishableToken',
};

export async function listTokens(
  store: Store,
  scope: Scope,
  entityId: string,
  query: PageRequest,
): Promise<Page<Token>> {
  if (!(await visible(store.db, scope, entityId))) throw notFound('entity', entityId);
  const rows = await store.db.query(
    `SELECT ${TOKEN_COLUMNS} FROM tokens t WHERE t.entity_id = $1 AND t.id > $2 ORDER BY t.id LIMIT $3`,
    [entityId, decodeCursor(query.cursor), query.limit + 1],
  );
  return paginate(
    await withUsage(
      store,
      store.db,
      rows.map((r) => tokenFromRow(r).value),
    ),
    query.limit,
  );
}

export async function createToken(
  store: Store,
  scope: Scope,
  entityId: string,
  input: CreateTokenRequest,
  idem: Idempotency | undefined,
  effects: Effects<TokenWithValue>,
): Promise<Idempotent<TokenWithValue>> {
  return issuing(store, idem, effects, async (tx) => {
    const entity = await lockEntity(store.db, tx, scope, entityId);
    if (!entity) throw notFound('entity', entityId);
    // Counted by its own statement after the lock is held: on PostgreSQL
    // (READ COMMITTED) a new statement sees every create committed before the
    // lock was granted; a count inside the locking statement would not.
    const count = await tokenCount(tx, entityId);
    const quota = checkQuota(store.tiers, entity.tier, count, 1, `entity "${entity.name}"`);
    if (quota) throw violationProblem(quota);
    const type = input.type ?? 'secret';
    const ceiling = checkScopeCeiling(
      store.tiers,
      entity.tier,
      input.scopes ?? defaultScopes(type),
    );
    if (ceiling) throw violationProblem(ceiling);
    return insertToken(store, tx, entityId, input);
  });
}

/**
 * A given expiry, normalised; one already past is refused: such a token could
 * never be used, yet it would hold a place in the quota.
 */
function futureExpiry(value: string | null, nowMs: number): string | null {
  const normalised = normaliseTime(value);
  if (normalised !== null && Date.parse(normalised) <= nowMs) {
    throw validationProblem([
      {
        path: 'expiresAt',
        message: `must be in the future (it is ${normalised}); send null for a token that never expires`,
      },
    ]);
  }
  return normalised;
}

/** Inserts a token with a fresh value; the caller has checked the quota under the entity lock. */
export async function insertToken(
  store: Store,
  tx: SqlTx,
  entityId: string,
  input: CreateTokenRequest,
): Promise<TokenWithValue> {
  const nowMs = store.clock();
  const now = new Date(nowMs).toISOString();
  const id = uuidv7(nowMs);
  const permissions = initialPermissions(input);
  const value = generateSecret(VALUE_KIND[permissions.type]);
  const expiresAt =
    input.expiresAt === undefined
      ? new Date(nowMs + store.tokenLifetimeMs).toISOString()
      : futureExpiry(input.expiresAt, nowMs);
  await tx.run(
    `INSERT INTO tokens (id, entity_id, name, status, expires_at, hint, digest, sealed_value,
       version, created_at, updated_at, type, scopes, allowed_origins, allowed_ips, rate_limit,
       usage_limit, usage_period, require_signed)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
    [
      id,
      entityId,
      input.name,
      input.status ?? 'active',
      expiresAt,
      secretHint(value),
      store.box.digest(value),
      store.box.seal(value, id),
      now,
      permissions.type,
      ...permissionParams(permissions),
    ],
  );
  return {
    id,
    entityId,
    name: input.name,
    status: input.status ?? 'active',
    expiresAt,
    createdAt: now,
    updatedAt: now,
    lastUsedAt: null,
    hint: secretHint(value),
    ...permissions,
    usage: usageOf(permissions.usageLimit, 0, nowMs),
    value,
  };
}

/** permission defaults for what a create leaves out. */
function initialPermissions(input: CreateTokenRequest): StoredPermissions {
  const { type, scopes, allowedOrigins, allowedIps, rateLimit, usageLimit } = input;
  return permissionsWithDefaults({
    type,
    scopes,
    allowedOrigins,
    allowedIps,
    rateLimit,
    usageLimit,
    requireSignedRequests: input.requireSignedRequests,
  });
}

export async function getToken(
  store: Store,
  scope: Scope,
  id: string,
): Promise<Versioned<Token> | null> {
  const rows = await store.db.query(`SELECT ${TOKEN_COLUMNS} FROM tokens t WHERE t.id = $1`, [id]);
  const row = rows[0];
  if (!row || !(await visible(store.db, scope, String(row.entity_id)))) return null;
  return withUsageOne(store, store.db, tokenFromRow(row));
}

/** What a token update did: the token, whether anything changed, whether it was disabled, which permission fields changed. */
export type TokenUpdate = {
  token: Versioned<Token>;
  changed: boolean;
  disabled: boolean;
  permissionsChanged: (keyof StoredPermissions)[];
};

export async function updateToken(
  store: Store,
  scope: Scope,
  id: string,
  patch: UpdateTokenRequest,
  ifMatch: ((etag: string) => boolean) | undefined,
  effects: Effects<TokenUpdate>,
): Promise<TokenUpdate> {
  return withEffects(store, effects, async (tx) => {
    const current = await lockToken(store.db, tx, scope, id);
    if (ifMatch && !ifMatch(current.etag)) throw preconditionFailed('token', id);
    const expiresAt =
      patch.expiresAt === undefined
        ? current.value.expiresAt
        : futureExpiry(patch.expiresAt, store.clock());
    const next = {
      name: patch.name ?? current.value.name,
      status: patch.status ?? current.value.status,
      expiresAt,
    };
    if (next.status === 'active' && current.value.status !== 'active') await refuseExposed(tx, id);
    const permissions = mergePermissions(current.value, patch);
    const permissionsChanged = (Object.keys(permissions) as (keyof StoredPermissions)[]).filter(
      (k) => !isDeepStrictEqual(permissions[k], current.value[k]),
    );
    if (permissionsChanged.includes('scopes')) {
      // The entity row is locked so that a concurrent downgrade judges these scopes, or we its tier.
      const [entity] = await tx.query(
        `SELECT tier FROM entities WHERE id = $1 ${store.db.forUpdate}`,
        [current.value.entityId],
      );
      const ceiling = checkScopeCeiling(store.tiers, String(entity?.tier), permissions.scopes);
      if (ceiling) throw violationProblem(ceiling);
    }
    const changed =
      next.name !== current.value.name ||
      next.status !== current.value.status ||
      next.expiresAt !== current.value.expiresAt ||
      permissionsChanged.length > 0;
    if (changed) {
      await tx.run(
        `UPDATE tokens SET name = $2, status = $3, expires_at = $4, scopes = $5, allowed_origins = $6,
           allowed_ips = $7, rate_limit = $8, usage_limit = $9, usage_period = $10, require_signed = $11,
           version = version + 1, updated_at = $12 WHERE id = $1`,
        [
          id,
          next.name,
          next.status,
          next.expiresAt,
          ...permissionParams(permissions),
          nowIso(store),
        ],
      );
    }
    return {
      token: await readToken(store, tx, id),
      changed,
      disabled: current.value.status === 'active' && next.status === 'disabled',
      permissionsChanged,
    };
  });
}

/** An exposed value stays off (README "Lifecycle events, leak response, revocation across servers"): only a rotation, which replaces it, makes the token usable. */
async function refuseExposed(tx: SqlTx, id: string): Promise<void> {
  const [row] = await tx.query('SELECT digest, exposed_digest FROM tokens WHERE id = $1', [id]);
  if (row?.exposed_digest && row.exposed_digest === row.digest) {
    throw new ProblemError(
      'token-exposed',
      `Token ${id} was disabled because its value was reported exposed; it cannot be enabled with that value. ` +
        'Rotate it (POST /v1/tokens/{id}/rotate): the new value works at once, and the exposed one never again.',
      { tokenId: id },
    );
  }
}

/** The stored permission fields with a PATCH applied; the rules between fields judged on the result. */
function mergePermissions(current: Token, patch: UpdateTokenRequest): StoredPermissions {
  const merged: StoredPermissions = {
    type: current.type,
    scopes: patch.scopes ?? current.scopes,
    allowedOrigins: patch.allowedOrigins ?? current.allowedOrigins,
    allowedIps: patch.allowedIps ?? current.allowedIps,
    rateLimit: patch.rateLimit === undefined ? current.rateLimit : patch.rateLimit,
    usageLimit: patch.usageLimit === undefined ? current.usageLimit : patch.usageLimit,
    requireSignedRequests: patch.requireSignedRequests ?? current.requireSignedRequests,
  };
  const problems = permissionProblems(merged);
  if (problems.length > 0) {
    throw validationProblem(
      problems,
      `${problems.map((p) => `${p.path}: ${p.message}`).join('; ')} (this token is ${merged.type}).`,
    );
  }
  return merged;
}

export async function deleteToken(
  store: Store,
  scope: Scope,
  id: string,
  effects: Effects<{ token: Token }>,
): Promise<{ token: Token }> {
  return withEffects(store, effects, async (tx) => {
    const current = await lockToken(store.db, tx, scope, id);
    await tx.run('DELETE FROM tokens WHERE id = $1', [id]);
    return { token: current.value };
  });
}

export async function revealToken(
  store: Store,
  scope: Scope,
  id: string,
  effects: Effects<{ value: string; entityId: string }>,
): Promise<{ value: string; entityId: string }> {
  // A write transaction for a read: the reveal's audit event commits with it.
  return withEffects(store, effects, async (tx) => {
    const rows = await tx.query('SELECT entity_id, sealed_value FROM tokens WHERE id = $1', [id]);
    const row = rows[0];
    if (!row || !(await visible(tx, scope, String(row.entity_id)))) {
      throw notFound('token', id);
    }
    return { value: store.box.open(String(row.sealed_value), id), entityId: String(row.entity_id) };
  });
}

/**
 * New value, same id. With a grace period the previous value keeps verifying
 * (as a bearer token and as a signing key) until it ends; with 0 it stops at
 * once. Values replaced earlier keep their own graces (at most
 * MAX_VALUES_IN_GRACE at once, else 409 grace-limit). A value reported exposed
 * gets no grace, and the rotation enables the token again.
 */
export async function rotateToken(
  store: Store,
  scope: Scope,
  id: string,
  gracePeriodSeconds: number,
  idem: Idempotency | undefined,
  effects: Effects<TokenWithValue>,
): Promise<Idempotent<TokenWithValue>> {
  return issuing(store, idem, effects, async (tx) => {
    const current = await lockToken(store.db, tx, scope, id);
    const [row] = await tx.query(
      'SELECT digest, sealed_value, exposed_digest FROM tokens WHERE id = $1',
      [id],
    );
    const exposed = row?.exposed_digest != null && row.exposed_digest === row.digest;
    if (gracePeriodSeconds > 0 && !exposed) {
      const replaced = { digest: String(row?.digest), sealedValue: String(row?.sealed_value) };
      await keepReplacedValue(store, tx, id, replaced, gracePeriodSeconds);
    }
    const value = generateSecret(VALUE_KIND[current.value.type]);
    await tx.run(
      `UPDATE tokens SET digest = $2, sealed_value = $3, hint = $4, exposed_digest = NULL,
         status = CASE WHEN $5 = 1 THEN 'active' ELSE status END,
         version = version + 1, updated_at = $6 WHERE id = $1`,
      [
        id,
        store.box.digest(value),
        store.box.seal(value, id),
        secretHint(value),
        exposed ? 1 : 0,
        nowIso(store),
      ],
    );
    const token = await readToken(store, tx, id);
    return { ...token.value, value };
  });
}

/** An idempotent write whose response holds a token value, guarded by `valueGone`. */
function issuing(
  store: Store,
  idem: Idempotency | undefined,
  effects: Effects<TokenWithValue>,
  fn: (tx: SqlTx) => Promise<TokenWithValue>,
): Promise<Idempotent<TokenWithValue>> {
  return idempotent(store, idem, effects, (tx, stored) => valueGone(store, tx, stored), fn);
}

/**
 * Replay guard of every response that holds a token value: the value must still
 * authenticate — the token's current one, or one a rotation replaced while its
 * grace lasts. A deleted token's value, or one rotated out, is never handed
 * out again.
 */
export async function valueGone(
  store: Store,
  tx: SqlTx,
  token: { id: string; value: string },
  /** The entity created with the token (an entity create's default token): it may still exist. */
  entityId?: string,
): Promise<ProblemError | null> {
  const entity = entityId ? { entityId } : {};
  const [row] = await tx.query('SELECT digest FROM tokens WHERE id = $1', [token.id]);
  if (!row) return replayGone('token', token.id, 'was deleted since', entity);
  const digest = store.box.digest(token.value);
  if (row.digest === digest) return null;
  if (((await graceEnd(tx, token.id, digest)) ?? 0) > store.clock()) return null;
  return replayGone('token', token.id, 'holds another value since (rotated)', entity);
}

export async function readToken(store: Store, q: SqlTx, id: string): Promise<Versioned<Token>> {
  const rows = await q.query(`SELECT ${TOKEN_COLUMNS} FROM tokens t WHERE t.id = $1`, [id]);
  if (!rows[0]) throw notFound('token', id);
  return withUsageOne(store, q, tokenFromRow(rows[0]));
}

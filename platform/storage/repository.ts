/**
 * The platform's repository: every read and write of entities, tokens, access
 * keys, audit events and idempotency records, with the domain rules (ceiling,
 * quota) checked inside the same write transaction as the change they guard.
 *
 * One implementation over a small SQL driver (sql.ts) for both engines:
 * SQLite serialises write transactions (`BEGIN IMMEDIATE`); PostgreSQL locks
 * the entity row (`SELECT … FOR UPDATE`) before counting its tokens, and the
 * parent row before judging a child's tier, so that no interleaving of
 * concurrent requests can overshoot a quota or break a ceiling.
 *
 * Visibility: every method takes a `scope` — null for the administrator, or the
 * id of the entity an access key belongs to. Objects outside that entity's
 * subtree do not exist for the caller (not-found).
 */
import { createHash } from 'node:crypto';
import type { SecretBox } from '../crypto/cipher.ts';
import { uuidv7 } from '../crypto/ids.ts';
import { ProblemError, validationProblem, violationProblem } from '../domain/problems.ts';
import {
  checkCeiling,
  checkDowngradeQuota,
  checkParentDowngrade,
  checkQuota,
} from '../domain/rules.ts';
import { generateSecret, secretHint } from '../domain/secret-format.ts';
import type { TierTable } from '../domain/tiers.ts';
import type {
  AccessKey,
  AccessKeyWithKey,
  AuditEvent,
  CreateAccessKeyRequest,
  CreateEntityRequest,
  CreateEntityResponse,
  CreateTokenRequest,
  Entity,
  Token,
  TokenWithValue,
  UpdateEntityRequest,
  UpdateTokenRequest,
} from '../schemas/index.ts';
import { migrate } from './migrations.ts';
import type { Row, SqlDriver, SqlTx } from './sql.ts';

/** null = administrator (everything); otherwise the root entity of an access key. */
export type Scope = string | null;

export type Idempotency = { scope: string; key: string; requestHash: string };
export type Idempotent<T> = { result: T; replayed: boolean };

export type PageRequest = { limit: number; cursor?: string | undefined };
export type Page<T> = { items: T[]; nextCursor: string | null };

/** What the verifier needs to know about a token, cached on the hot path. */
export type TokenRecord = {
  tokenId: string;
  entityId: string;
  tier: string;
  status: 'active' | 'disabled';
  expiresAt: string | null;
  digest: string;
  previousDigest: string | null;
  previousExpiresAt: string | null;
};

export type AccessKeyRecord = { id: string; entityId: string; role: 'admin' | 'viewer' };

export type Versioned<T> = { value: T; version: number };

export type NewAuditEvent = Omit<AuditEvent, 'id' | 'at'>;

/**
 * The audit event of a successful create or rotation, written in the same
 * transaction as the change (so one never commits without the other).
 */
export type AuditWith<T> = {
  actor: AuditEvent['actor'];
  requestId: string;
  describe(
    result: T,
    replayed: boolean,
  ): Pick<AuditEvent, 'action' | 'targetType' | 'targetId' | 'entityId' | 'detail'>;
};

export type RepositoryOptions = {
  db: SqlDriver;
  tiers: TierTable;
  box: SecretBox;
  clock?: () => number;
  /** Default token lifetime when a create does not say; SPEC §1: 365 days. */
  defaultTokenLifetimeMs?: number;
};

const DAY_MS = 86_400_000;

const ENTITY_COLUMNS = `e.id, e.name, e.kind, e.parent_id, e.tier, e.version, e.created_at, e.updated_at,
  (SELECT COUNT(*) FROM tokens c WHERE c.entity_id = e.id) AS token_count`;
const TOKEN_COLUMNS =
  't.id, t.entity_id, t.name, t.status, t.expires_at, t.hint, t.last_used_at, t.version, t.created_at, t.updated_at';

/** Ancestors of $1 (itself included): is $2 among them? */
const IN_SUBTREE = `WITH RECURSIVE up(id, parent_id) AS (
  SELECT id, parent_id FROM entities WHERE id = $1
  UNION ALL SELECT e.id, e.parent_id FROM entities e JOIN up ON e.id = up.parent_id
) SELECT 1 AS ok FROM up WHERE id = $2`;

/** Descendants of $1, itself included. */
const SUBTREE = `WITH RECURSIVE down(id) AS (
  SELECT id FROM entities WHERE id = $1
  UNION ALL SELECT e.id FROM entities e JOIN down d ON e.parent_id = d.id
)`;

export class Repository {
  readonly db: SqlDriver;
  readonly tiers: TierTable;
  readonly #box: SecretBox;
  readonly #clock: () => number;
  readonly #lifetime: number;

  constructor(options: RepositoryOptions) {
    this.db = options.db;
    this.tiers = options.tiers;
    this.#box = options.box;
    this.#clock = options.clock ?? Date.now;
    this.#lifetime = options.defaultTokenLifetimeMs ?? 365 * DAY_MS;
  }

  migrate(): Promise<number[]> {
    return migrate(this.db, this.#clock);
  }

  /**
   * Fails fast when the encryption key is not the one this database was first
   * used with: every look-up digest and sealed value depends on it, so starting
   * anyway would turn every token into a silent 401.
   */
  async checkEncryptionKey(): Promise<void> {
    const name = 'encryption-key-check';
    await this.db.transaction(async (tx) => {
      const [row] = await tx.query('SELECT value FROM settings WHERE name = $1', [name]);
      if (!row) {
        await tx.run('INSERT INTO settings (name, value) VALUES ($1, $2)', [
          name,
          this.#box.seal('tokenplane', name),
        ]);
        return;
      }
      try {
        this.#box.open(String(row.value), name);
      } catch {
        throw new Error(
          'TOKENPLANE_ENCRYPTION_KEY is not the key this database was created with: stored tokens could ' +
            'not be verified or revealed. Start with the original key (see the encryption-key file in the ' +
            'data dir it was generated into).',
        );
      }
    });
  }

  close(): Promise<void> {
    return this.db.close();
  }

  #now(): string {
    return new Date(this.#clock()).toISOString();
  }

  // ---------------------------------------------------------------- entities

  async createEntity(
    scope: Scope,
    input: CreateEntityRequest,
    idem?: Idempotency,
    audit?: AuditWith<CreateEntityResponse>,
  ): Promise<Idempotent<CreateEntityResponse>> {
    const tierName = input.tier ?? this.tiers.defaultTier.name;
    if (!this.tiers.find(tierName)) throw unknownTier(this.tiers, tierName);
    const parentId = input.parentId ?? null;
    if (parentId === null && scope !== null) {
      throw new ProblemError(
        'forbidden',
        'Only the platform administrator creates top-level entities; give a parentId inside your subtree.',
      );
    }
    return this.#idempotent(idem, audit, async (tx) => {
      if (parentId !== null) {
        const parent = await this.#lockEntity(tx, scope, parentId);
        if (!parent) throw notFound('entity', parentId);
        if (parent.kind !== 'reseller') {
          throw validationProblem([
            { path: 'parentId', message: 'a customer cannot have children; choose a reseller' },
          ]);
        }
        const ceiling = checkCeiling(this.tiers, tierName, parent.tier, `parent "${parent.name}"`);
        if (ceiling) throw violationProblem(ceiling);
      }
      const now = this.#now();
      const id = uuidv7(this.#clock());
      await tx.run(
        `INSERT INTO entities (id, name, kind, parent_id, tier, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 1, $6, $6)`,
        [id, input.name, input.kind, parentId, tierName, now],
      );
      let defaultToken: TokenWithValue | undefined;
      if (input.defaultToken !== false) {
        const quota = checkQuota(this.tiers, tierName, 0, 1, `entity "${input.name}"`);
        if (quota) throw violationProblem(quota);
        defaultToken = await this.#insertToken(tx, id, { name: 'default' });
      }
      const entity = await this.#readEntity(tx, id);
      if (!entity) throw new Error('entity vanished inside its own transaction');
      return defaultToken ? { ...entity.value, defaultToken } : entity.value;
    });
  }

  async getEntity(scope: Scope, id: string): Promise<Versioned<Entity> | null> {
    if (!(await this.#visible(this.db, scope, id))) return null;
    return this.#readEntity(this.db, id);
  }

  async listEntities(
    scope: Scope,
    query: PageRequest & { parentId?: string | undefined },
  ): Promise<Page<Entity>> {
    const after = decodeCursor(query.cursor);
    const params: unknown[] = [after, query.limit + 1];
    let sql: string;
    if (query.parentId !== undefined) {
      if (!(await this.#visible(this.db, scope, query.parentId))) {
        throw notFound('entity', query.parentId);
      }
      params.push(query.parentId);
      sql = `SELECT ${ENTITY_COLUMNS} FROM entities e WHERE e.parent_id = $3 AND e.id > $1 ORDER BY e.id LIMIT $2`;
    } else if (scope !== null) {
      params.push(scope);
      sql = `${SUBTREE.replace('$1', '$3')} SELECT ${ENTITY_COLUMNS} FROM entities e
        WHERE e.id IN (SELECT id FROM down) AND e.id > $1 ORDER BY e.id LIMIT $2`;
    } else {
      sql = `SELECT ${ENTITY_COLUMNS} FROM entities e WHERE e.id > $1 ORDER BY e.id LIMIT $2`;
    }
    const rows = await this.db.query(sql, params);
    return paginate(
      rows.map((r) => this.#entity(r).value),
      query.limit,
    );
  }

  async updateEntity(
    scope: Scope,
    id: string,
    patch: UpdateEntityRequest,
    ifMatch?: (version: number) => boolean,
    audit?: AuditWith<{ entity: Versioned<Entity>; tierChanged: boolean }>,
  ): Promise<{ entity: Versioned<Entity>; tierChanged: boolean }> {
    if (patch.tier !== undefined && !this.tiers.find(patch.tier)) {
      throw unknownTier(this.tiers, patch.tier);
    }
    return this.#audited(audit, async (tx) => {
      // Lock order is always ancestor first: a parent's downgrade and a child's
      // upgrade then serialise on the parent's row.
      const peek = await tx.query('SELECT parent_id FROM entities WHERE id = $1', [id]);
      if (peek.length === 0 || !(await this.#visible(tx, scope, id))) throw notFound('entity', id);
      const parentId = peek[0]?.parent_id as string | null;
      const parent = parentId ? await this.#lockEntity(tx, null, parentId) : null;
      const current = await this.#lockEntity(tx, scope, id);
      if (!current) throw notFound('entity', id);
      if (ifMatch && !ifMatch(current.version)) throw preconditionFailed('entity', id);
      const tierChanged = patch.tier !== undefined && patch.tier !== current.tier;
      if (tierChanged && patch.tier !== undefined) {
        const label = `entity "${current.name}"`;
        if (parent) {
          const v = checkCeiling(this.tiers, patch.tier, parent.tier, `parent "${parent.name}"`);
          if (v) throw violationProblem(v);
        }
        const children = await tx.query('SELECT tier FROM entities WHERE parent_id = $1', [id]);
        const down = checkParentDowngrade(
          this.tiers,
          patch.tier,
          children.map((c) => String(c.tier)),
          label,
        );
        if (down) throw violationProblem(down);
        const count = await this.#tokenCount(tx, id);
        const quota = checkDowngradeQuota(this.tiers, patch.tier, count, label);
        if (quota) throw violationProblem(quota);
      }
      if (patch.name !== undefined || tierChanged) {
        await tx.run(
          `UPDATE entities SET name = $2, tier = $3, version = version + 1, updated_at = $4 WHERE id = $1`,
          [id, patch.name ?? current.name, patch.tier ?? current.tier, this.#now()],
        );
      }
      const entity = await this.#readEntity(tx, id);
      if (!entity) throw notFound('entity', id);
      return { entity, tierChanged };
    });
  }

  async deleteEntity(
    scope: Scope,
    id: string,
    audit?: AuditWith<{ tokens: number }>,
  ): Promise<{ tokens: number }> {
    return this.#audited(audit, async (tx) => {
      const current = await this.#lockEntity(tx, scope, id);
      if (!current) throw notFound('entity', id);
      if (scope === id) {
        throw new ProblemError(
          'forbidden',
          'An access key cannot delete the entity it belongs to; ask the administrator or a key of an ancestor.',
        );
      }
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
      const tokens = await this.#tokenCount(tx, id);
      await tx.run('DELETE FROM tokens WHERE entity_id = $1', [id]);
      await tx.run('DELETE FROM access_keys WHERE entity_id = $1', [id]);
      await tx.run('DELETE FROM entities WHERE id = $1', [id]);
      return { tokens };
    });
  }

  // ------------------------------------------------------------------ tokens

  async listTokens(scope: Scope, entityId: string, query: PageRequest): Promise<Page<Token>> {
    if (!(await this.#visible(this.db, scope, entityId))) throw notFound('entity', entityId);
    const rows = await this.db.query(
      `SELECT ${TOKEN_COLUMNS} FROM tokens t WHERE t.entity_id = $1 AND t.id > $2 ORDER BY t.id LIMIT $3`,
      [entityId, decodeCursor(query.cursor), query.limit + 1],
    );
    return paginate(
      rows.map((r) => tokenFromRow(r).value),
      query.limit,
    );
  }

  async createToken(
    scope: Scope,
    entityId: string,
    input: CreateTokenRequest,
    idem?: Idempotency,
    audit?: AuditWith<TokenWithValue>,
  ): Promise<Idempotent<TokenWithValue>> {
    return this.#idempotent(idem, audit, async (tx) => {
      const entity = await this.#lockEntity(tx, scope, entityId);
      if (!entity) throw notFound('entity', entityId);
      // Counted by its own statement after the lock is held: on PostgreSQL
      // (READ COMMITTED) a new statement sees every create committed before the
      // lock was granted; a count inside the locking statement would not.
      const count = await this.#tokenCount(tx, entityId);
      const quota = checkQuota(this.tiers, entity.tier, count, 1, `entity "${entity.name}"`);
      if (quota) throw violationProblem(quota);
      return this.#insertToken(tx, entityId, input);
    });
  }

  async getToken(scope: Scope, id: string): Promise<Versioned<Token> | null> {
    const rows = await this.db.query(`SELECT ${TOKEN_COLUMNS} FROM tokens t WHERE t.id = $1`, [id]);
    const row = rows[0];
    if (!row || !(await this.#visible(this.db, scope, String(row.entity_id)))) return null;
    return tokenFromRow(row);
  }

  async updateToken(
    scope: Scope,
    id: string,
    patch: UpdateTokenRequest,
    ifMatch?: (version: number) => boolean,
    audit?: AuditWith<{ token: Versioned<Token>; disabled: boolean }>,
  ): Promise<{ token: Versioned<Token>; disabled: boolean }> {
    return this.#audited(audit, async (tx) => {
      const current = await this.#lockToken(tx, scope, id);
      if (ifMatch && !ifMatch(current.version)) throw preconditionFailed('token', id);
      const expiresAt =
        patch.expiresAt === undefined ? current.value.expiresAt : normaliseTime(patch.expiresAt);
      const next = {
        name: patch.name ?? current.value.name,
        status: patch.status ?? current.value.status,
        expiresAt,
      };
      const changed =
        next.name !== current.value.name ||
        next.status !== current.value.status ||
        next.expiresAt !== current.value.expiresAt;
      if (changed) {
        await tx.run(
          `UPDATE tokens SET name = $2, status = $3, expires_at = $4, version = version + 1, updated_at = $5 WHERE id = $1`,
          [id, next.name, next.status, next.expiresAt, this.#now()],
        );
      }
      const token = await this.#readToken(tx, id);
      return {
        token,
        disabled: current.value.status === 'active' && next.status === 'disabled',
      };
    });
  }

  async deleteToken(
    scope: Scope,
    id: string,
    audit?: AuditWith<{ entityId: string }>,
  ): Promise<{ entityId: string }> {
    return this.#audited(audit, async (tx) => {
      const current = await this.#lockToken(tx, scope, id);
      await tx.run('DELETE FROM tokens WHERE id = $1', [id]);
      return { entityId: current.value.entityId };
    });
  }

  async revealToken(scope: Scope, id: string): Promise<{ value: string; entityId: string }> {
    const rows = await this.db.query('SELECT entity_id, sealed_value FROM tokens WHERE id = $1', [
      id,
    ]);
    const row = rows[0];
    if (!row || !(await this.#visible(this.db, scope, String(row.entity_id)))) {
      throw notFound('token', id);
    }
    return { value: this.#box.open(String(row.sealed_value), id), entityId: String(row.entity_id) };
  }

  /**
   * New value, same id. With a grace period the previous value keeps verifying
   * until it ends; with 0 it stops at once. A rotation during an earlier grace
   * period ends that one: only the value being replaced gets the new grace.
   */
  async rotateToken(
    scope: Scope,
    id: string,
    gracePeriodSeconds: number,
    idem?: Idempotency,
    audit?: AuditWith<TokenWithValue>,
  ): Promise<Idempotent<TokenWithValue>> {
    return this.#idempotent(idem, audit, async (tx) => {
      await this.#lockToken(tx, scope, id);
      const [row] = await tx.query('SELECT digest FROM tokens WHERE id = $1', [id]);
      const value = generateSecret('apiToken');
      const grace = gracePeriodSeconds > 0;
      await tx.run(
        `UPDATE tokens SET digest = $2, sealed_value = $3, hint = $4, previous_digest = $5,
           previous_expires_at = $6, version = version + 1, updated_at = $7 WHERE id = $1`,
        [
          id,
          this.#box.digest(value),
          this.#box.seal(value, id),
          secretHint(value),
          grace ? String(row?.digest) : null,
          grace ? new Date(this.#clock() + gracePeriodSeconds * 1000).toISOString() : null,
          this.#now(),
        ],
      );
      const token = await this.#readToken(tx, id);
      return { ...token.value, value };
    });
  }

  /** The hot path's single query: the token holding this digest (current or in grace). */
  async findTokenByDigest(digest: string): Promise<TokenRecord | null> {
    const rows = await this.db.query(
      `SELECT t.id, t.entity_id, t.status, t.expires_at, t.digest, t.previous_digest,
              t.previous_expires_at, e.tier
         FROM tokens t JOIN entities e ON e.id = t.entity_id
        WHERE t.digest = $1 OR t.previous_digest = $1`,
      [digest],
    );
    const r = rows[0];
    if (!r) return null;
    return {
      tokenId: String(r.id),
      entityId: String(r.entity_id),
      tier: String(r.tier),
      status: r.status as TokenRecord['status'],
      expiresAt: (r.expires_at as string | null) ?? null,
      digest: String(r.digest),
      previousDigest: (r.previous_digest as string | null) ?? null,
      previousExpiresAt: (r.previous_expires_at as string | null) ?? null,
    };
  }

  /** Writes batched `lastUsedAt` values (never moving one backwards). */
  async recordLastUsed(entries: ReadonlyMap<string, string>): Promise<void> {
    if (entries.size === 0) return;
    await this.db.transaction(async (tx) => {
      for (const [id, at] of entries) {
        await tx.run(
          'UPDATE tokens SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)',
          [id, at],
        );
      }
    });
  }

  // ------------------------------------------------------------- access keys

  async createAccessKey(
    scope: Scope,
    entityId: string,
    input: CreateAccessKeyRequest,
    idem?: Idempotency,
    audit?: AuditWith<AccessKeyWithKey>,
  ): Promise<Idempotent<AccessKeyWithKey>> {
    return this.#idempotent(idem, audit, async (tx) => {
      const entity = await this.#lockEntity(tx, scope, entityId);
      if (!entity) throw notFound('entity', entityId);
      const key = generateSecret('accessKey');
      const id = uuidv7(this.#clock());
      const createdAt = this.#now();
      await tx.run(
        'INSERT INTO access_keys (id, entity_id, name, role, digest, created_at) VALUES ($1, $2, $3, $4, $5, $6)',
        [id, entityId, input.name, input.role, this.#box.digest(key), createdAt],
      );
      return { id, entityId, name: input.name, role: input.role, createdAt, key };
    });
  }

  async listAccessKeys(scope: Scope, entityId: string): Promise<AccessKey[]> {
    if (!(await this.#visible(this.db, scope, entityId))) throw notFound('entity', entityId);
    const rows = await this.db.query(
      'SELECT id, entity_id, name, role, created_at FROM access_keys WHERE entity_id = $1 ORDER BY id',
      [entityId],
    );
    return rows.map(accessKeyFromRow);
  }

  async deleteAccessKey(
    scope: Scope,
    id: string,
    audit?: AuditWith<{ entityId: string }>,
  ): Promise<{ entityId: string }> {
    return this.#audited(audit, async (tx) => {
      const rows = await tx.query('SELECT entity_id FROM access_keys WHERE id = $1', [id]);
      const entityId = rows[0]?.entity_id as string | undefined;
      if (!entityId || !(await this.#visible(tx, scope, entityId))) {
        throw notFound('access key', id);
      }
      await tx.run('DELETE FROM access_keys WHERE id = $1', [id]);
      return { entityId };
    });
  }

  async findAccessKeyByDigest(digest: string): Promise<AccessKeyRecord | null> {
    const rows = await this.db.query(
      'SELECT id, entity_id, role FROM access_keys WHERE digest = $1',
      [digest],
    );
    const r = rows[0];
    return r
      ? { id: String(r.id), entityId: String(r.entity_id), role: r.role as AccessKeyRecord['role'] }
      : null;
  }

  // ------------------------------------------------------------------- audit

  async recordAudit(event: NewAuditEvent): Promise<void> {
    await this.db.transaction((tx) => this.#insertAudit(tx, event));
  }

  async #insertAudit(tx: SqlTx, event: NewAuditEvent): Promise<void> {
    const now = this.#clock();
    await tx.run(
      `INSERT INTO audit_events (id, at, actor_type, actor_id, action, target_type, target_id,
         entity_id, outcome, request_id, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
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
      ],
    );
  }

  async listAudit(
    scope: Scope,
    query: PageRequest & { entityId?: string | undefined },
  ): Promise<Page<AuditEvent>> {
    const after = decodeCursor(query.cursor);
    let rows: Row[];
    if (query.entityId !== undefined) {
      // Events of a deleted entity stay readable by the administrator.
      if (scope !== null && !(await this.#visible(this.db, scope, query.entityId))) {
        throw notFound('entity', query.entityId);
      }
      rows = await this.db.query(
        'SELECT * FROM audit_events WHERE entity_id = $1 AND id > $2 ORDER BY id LIMIT $3',
        [query.entityId, after, query.limit + 1],
      );
    } else if (scope !== null) {
      rows = await this.db.query(
        `${SUBTREE} SELECT * FROM audit_events WHERE entity_id IN (SELECT id FROM down)
           AND id > $2 ORDER BY id LIMIT $3`,
        [scope, after, query.limit + 1],
      );
    } else {
      rows = await this.db.query('SELECT * FROM audit_events WHERE id > $1 ORDER BY id LIMIT $2', [
        after,
        query.limit + 1,
      ]);
    }
    return paginate(rows.map(auditFromRow), query.limit);
  }

  // ------------------------------------------------------------- idempotency

  /** Forget idempotency records older than `maxAgeMs` (kept at least 24 h by the caller's choice). */
  async purgeIdempotency(maxAgeMs: number): Promise<number> {
    const before = new Date(this.#clock() - maxAgeMs).toISOString();
    return this.db.transaction((tx) =>
      tx.run('DELETE FROM idempotency_keys WHERE created_at < $1', [before]),
    );
  }

  /** Runs `fn` in one write transaction together with the audit event of its success. */
  #audited<T>(audit: AuditWith<T> | undefined, fn: (tx: SqlTx) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) => {
      const result = await fn(tx);
      if (audit) {
        await this.#insertAudit(tx, {
          ...audit.describe(result, false),
          actor: audit.actor,
          requestId: audit.requestId,
          outcome: 'success',
        });
      }
      return result;
    });
  }

  /**
   * Runs a create in one transaction with its idempotency record: the first
   * successful response is stored (sealed: it may hold a secret) in the same
   * transaction, so a replay returns exactly it and can never issue twice. A
   * failed request stores nothing and may be retried. Two concurrent requests
   * with one key: the loser's insert hits the primary key, it rolls back and
   * answers with the winner's stored response.
   */
  async #idempotent<T>(
    idem: Idempotency | undefined,
    audit: AuditWith<T> | undefined,
    fn: (tx: SqlTx) => Promise<T>,
  ): Promise<Idempotent<T>> {
    const audited = async (tx: SqlTx, outcome: Idempotent<T>): Promise<Idempotent<T>> => {
      if (audit) {
        await this.#insertAudit(tx, {
          ...audit.describe(outcome.result, outcome.replayed),
          actor: audit.actor,
          requestId: audit.requestId,
          outcome: 'success',
        });
      }
      return outcome;
    };
    if (!idem) {
      return this.db.transaction(async (tx) =>
        audited(tx, { result: await fn(tx), replayed: false }),
      );
    }
    const aad = `${idem.scope}\n${idem.key}`;
    const attempt = () =>
      this.db.transaction(async (tx): Promise<Idempotent<T>> => {
        const [stored] = await tx.query(
          'SELECT request_hash, sealed_response FROM idempotency_keys WHERE scope = $1 AND key = $2',
          [idem.scope, idem.key],
        );
        if (stored) {
          return audited(tx, { result: this.#replay<T>(stored, idem, aad), replayed: true });
        }
        const result = await fn(tx);
        await tx.run(
          'INSERT INTO idempotency_keys (scope, key, request_hash, sealed_response, created_at) VALUES ($1, $2, $3, $4, $5)',
          [
            idem.scope,
            idem.key,
            idem.requestHash,
            this.#box.seal(JSON.stringify(result), aad),
            this.#now(),
          ],
        );
        return audited(tx, { result, replayed: false });
      });
    try {
      return await attempt();
    } catch (error) {
      if (this.db.isUniqueViolation(error)) return attempt();
      throw error;
    }
  }

  #replay<T>(stored: Row, idem: Idempotency, aad: string): T {
    if (stored.request_hash !== idem.requestHash) {
      throw new ProblemError(
        'idempotency-conflict',
        'This Idempotency-Key was already used with a different request body. Use a new key for a new request.',
      );
    }
    return JSON.parse(this.#box.open(String(stored.sealed_response), aad)) as T;
  }

  // ----------------------------------------------------------------- helpers

  async #insertToken(
    tx: SqlTx,
    entityId: string,
    input: CreateTokenRequest,
  ): Promise<TokenWithValue> {
    const nowMs = this.#clock();
    const now = new Date(nowMs).toISOString();
    const id = uuidv7(nowMs);
    const value = generateSecret('apiToken');
    const expiresAt =
      input.expiresAt === undefined
        ? new Date(nowMs + this.#lifetime).toISOString()
        : normaliseTime(input.expiresAt);
    await tx.run(
      `INSERT INTO tokens (id, entity_id, name, status, expires_at, hint, digest, sealed_value,
         version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $9)`,
      [
        id,
        entityId,
        input.name,
        input.status ?? 'active',
        expiresAt,
        secretHint(value),
        this.#box.digest(value),
        this.#box.seal(value, id),
        now,
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
      value,
    };
  }

  async #visible(q: SqlTx, scope: Scope, entityId: string): Promise<boolean> {
    if (scope === null) {
      const rows = await q.query('SELECT 1 AS ok FROM entities WHERE id = $1', [entityId]);
      return rows.length > 0;
    }
    const rows = await q.query(IN_SUBTREE, [entityId, scope]);
    return rows.length > 0;
  }

  /** Locks an entity row for the rest of the transaction; null when absent or out of scope. */
  async #lockEntity(
    tx: SqlTx,
    scope: Scope,
    id: string,
  ): Promise<{ id: string; name: string; kind: string; tier: string; version: number } | null> {
    const rows = await tx.query(
      `SELECT id, name, kind, tier, version FROM entities WHERE id = $1 ${this.db.forUpdate}`,
      [id],
    );
    const r = rows[0];
    if (!r) return null;
    if (scope !== null && !(await this.#visible(tx, scope, id))) return null;
    return {
      id: String(r.id),
      name: String(r.name),
      kind: String(r.kind),
      tier: String(r.tier),
      version: Number(r.version),
    };
  }

  async #lockToken(tx: SqlTx, scope: Scope, id: string): Promise<Versioned<Token>> {
    const rows = await tx.query(
      `SELECT ${TOKEN_COLUMNS} FROM tokens t WHERE t.id = $1 ${this.db.forUpdate}`,
      [id],
    );
    const row = rows[0];
    if (!row || !(await this.#visible(tx, scope, String(row.entity_id)))) {
      throw notFound('token', id);
    }
    return tokenFromRow(row);
  }

  async #tokenCount(tx: SqlTx, entityId: string): Promise<number> {
    const rows = await tx.query('SELECT COUNT(*) AS n FROM tokens WHERE entity_id = $1', [
      entityId,
    ]);
    return Number(rows[0]?.n ?? 0);
  }

  async #readEntity(q: SqlTx, id: string): Promise<Versioned<Entity> | null> {
    const rows = await q.query(`SELECT ${ENTITY_COLUMNS} FROM entities e WHERE e.id = $1`, [id]);
    return rows[0] ? this.#entity(rows[0]) : null;
  }

  async #readToken(q: SqlTx, id: string): Promise<Versioned<Token>> {
    const rows = await q.query(`SELECT ${TOKEN_COLUMNS} FROM tokens t WHERE t.id = $1`, [id]);
    if (!rows[0]) throw notFound('token', id);
    return tokenFromRow(rows[0]);
  }

  #entity(r: Row): Versioned<Entity> {
    const tier = String(r.tier);
    return {
      version: Number(r.version),
      value: {
        id: String(r.id),
        name: String(r.name),
        kind: r.kind as Entity['kind'],
        parentId: (r.parent_id as string | null) ?? null,
        tier,
        tokenQuota: this.tiers.find(tier)?.tokenQuota ?? 0,
        tokenCount: Number(r.token_count ?? 0),
        createdAt: String(r.created_at),
        updatedAt: String(r.updated_at),
      },
    };
  }
}

function tokenFromRow(r: Row): Versioned<Token> {
  return {
    version: Number(r.version),
    value: {
      id: String(r.id),
      entityId: String(r.entity_id),
      name: String(r.name),
      status: r.status as Token['status'],
      expiresAt: (r.expires_at as string | null) ?? null,
      createdAt: String(r.created_at),
      updatedAt: String(r.updated_at),
      lastUsedAt: (r.last_used_at as string | null) ?? null,
      hint: String(r.hint),
    },
  };
}

function accessKeyFromRow(r: Row): AccessKey {
  return {
    id: String(r.id),
    entityId: String(r.entity_id),
    name: String(r.name),
    role: r.role as AccessKey['role'],
    createdAt: String(r.created_at),
  };
}

function auditFromRow(r: Row): AuditEvent {
  return {
    id: String(r.id),
    at: String(r.at),
    actor: {
      type: r.actor_type as AuditEvent['actor']['type'],
      id: (r.actor_id as string | null) ?? null,
    },
    action: String(r.action),
    targetType: r.target_type as AuditEvent['targetType'],
    targetId: (r.target_id as string | null) ?? null,
    entityId: (r.entity_id as string | null) ?? null,
    outcome: r.outcome as AuditEvent['outcome'],
    requestId: String(r.request_id),
    detail: (r.detail as string | null) ?? null,
  };
}

function normaliseTime(value: string | null): string | null {
  return value === null ? null : new Date(value).toISOString();
}

/** Cursors are opaque to clients: base64url of the last id returned. */
export function encodeCursor(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string | undefined): string {
  if (cursor === undefined || cursor === '') return '';
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^[0-9a-f-]{36}$/.test(id)) {
    throw validationProblem([{ path: 'cursor', message: 'not a cursor returned by this API' }]);
  }
  return id;
}

function paginate<T extends { id: string }>(rows: T[], limit: number): Page<T> {
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  const last = items[items.length - 1];
  return { items, nextCursor: more && last ? encodeCursor(last.id) : null };
}

function notFound(what: string, id: string): ProblemError {
  return new ProblemError('not-found', `No ${what} with id ${id} exists in your scope.`);
}

function preconditionFailed(what: string, id: string): ProblemError {
  return new ProblemError(
    'precondition-failed',
    `The ${what} ${id} changed since you read it (If-Match does not match its ETag). Read it again and retry.`,
  );
}

function unknownTier(tiers: TierTable, name: string): ProblemError {
  return validationProblem([
    { path: 'tier', message: `unknown tier "${name}"; known tiers: ${tiers.names.join(', ')}` },
  ]);
}

/** SHA-256 of a canonical JSON rendering: the request fingerprint of an idempotent create. */
export function requestHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('base64url');
}

function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/**
 * What the verifier reads on the hot path: a token by the digest of a
 * presented value (its current value, or one a rotation replaced:
 * replaced-values.ts), a token by id with the values that sign for it, and the
 * batched lastUsedAt writes.
 */
import { PERMISSION_COLUMNS, permissionsFromRow, type StoredPermissions } from './rows.ts';
import type { Row } from './sql.ts';
import { nowIso, type Store } from './store.ts';

/** What the verifier needs to know about a token, cached on the hot path. */
export type TokenRecord = {
  tokenId: string;
  entityId: string;
  tier: string;
  status: 'active' | 'disabled';
  expiresAt: string | null;
  permissions: StoredPermissions;
};

/** The token a presented value belongs to, and until when that value verifies. */
export type ValueMatch = {
  record: TokenRecord;
  /** null: the token's current value; else a replaced value, until its grace ends. */
  graceEndsAt: string | null;
};

/** A token by id with the values that sign for it: the current one first, then those in their grace. */
export type SigningMatch = {
  record: TokenRecord;
  values: { value: string; graceEndsAt: string | null }[];
};

/**
 * The hot path's single query: the token holding this digest as its current
 * value, or as a replaced one (with its grace's end, judged by the caller).
 * One round trip with one index probe per table, as before replaced values
 * had a table of their own.
 */
export async function findTokenByDigest(store: Store, digest: string): Promise<ValueMatch | null> {
  const rows = await store.db.query(
    `SELECT ${RECORD_COLUMNS}, CAST(NULL AS TEXT) AS grace_ends_at
       FROM tokens t JOIN entities e ON e.id = t.entity_id WHERE t.digest = $1
     UNION ALL
     SELECT ${RECORD_COLUMNS}, r.grace_ends_at
       FROM replaced_values r JOIN tokens t ON t.id = r.token_id
       JOIN entities e ON e.id = t.entity_id WHERE r.digest = $1`,
    [digest],
  );
  const r = rows[0];
  return r
    ? { record: recordFromRow(r), graceEndsAt: (r.grace_ends_at as string | null) ?? null }
    : null;
}

/**
 * A token by id with its values, for verifying request signatures (keyed by a
 * value, named by the token id): the current one and those replaced whose
 * grace has not ended (one row each). The values stay in the verifier's memory only.
 */
export async function findTokenById(store: Store, id: string): Promise<SigningMatch | null> {
  const rows = await store.db.query(
    `SELECT ${RECORD_COLUMNS}, t.sealed_value, r.sealed_value AS replaced_value, r.grace_ends_at
       FROM tokens t JOIN entities e ON e.id = t.entity_id
       LEFT JOIN replaced_values r ON r.token_id = t.id AND r.grace_ends_at > $2
        AND r.sealed_value IS NOT NULL
      WHERE t.id = $1`,
    [id, nowIso(store)],
  );
  const [first] = rows;
  if (!first) return null;
  const replaced = rows.filter((r) => r.replaced_value != null);
  return {
    record: recordFromRow(first),
    values: [
      { value: store.box.open(String(first.sealed_value), id), graceEndsAt: null },
      ...replaced.map((r) => ({
        value: store.box.open(String(r.replaced_value), id),
        graceEndsAt: String(r.grace_ends_at),
      })),
    ],
  };
}

const RECORD_COLUMNS = `t.id, t.entity_id, t.status, t.expires_at, e.tier, ${PERMISSION_COLUMNS}`;

function recordFromRow(r: Row): TokenRecord {
  return {
    tokenId: String(r.id),
    entityId: String(r.entity_id),
    tier: String(r.tier),
    status: r.status as TokenRecord['status'],
    expiresAt: (r.expires_at as string | null) ?? null,
    permissions: permissionsFromRow(r),
  };
}

/** Writes batched `lastUsedAt` values (never moving one backwards). */
export async function recordLastUsed(
  store: Store,
  entries: ReadonlyMap<string, string>,
): Promise<void> {
  if (entries.size === 0) return;
  await store.db.transaction(async (tx) => {
    for (const [id, at] of entries) {
      await tx.run(
        'UPDATE tokens SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)',
        [id, at],
      );
    }
  });
}

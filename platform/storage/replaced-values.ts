/**
 * Values a rotation replaced. Each keeps verifying — as a bearer token and as
 * the key of signed requests — until its own grace ends: a later rotation does
 * not cut an earlier grace short. At most MAX_VALUES_IN_GRACE per token at
 * once (domain/rules.ts). Stored like current values: an HMAC digest for the
 * look-up and a sealed copy (token id as associated data) for signatures.
 * The verifier's look-ups that join this table are in tokens.ts.
 */

import { violationProblem } from '../../core/domain/problems.ts';
import { checkGraceRoom } from '../../core/domain/rules.ts';
import type { SqlTx } from './sql.ts';
import { nowIso, type Store } from './store.ts';

/**
 * Keeps the token's current value verifying for `graceSeconds` beside the one
 * that replaces it; refused (409 grace-limit) when the token already has the
 * most values in their grace. Call with the token row locked.
 */
export async function keepReplacedValue(
  store: Store,
  tx: SqlTx,
  tokenId: string,
  value: { digest: string; sealedValue: string },
  graceSeconds: number,
): Promise<void> {
  const now = store.clock();
  const ended = new Date(now).toISOString();
  await tx.run('DELETE FROM replaced_values WHERE token_id = $1 AND grace_ends_at <= $2', [
    tokenId,
    ended,
  ]);
  const rows = await tx.query('SELECT grace_ends_at FROM replaced_values WHERE token_id = $1', [
    tokenId,
  ]);
  const full = checkGraceRoom(
    tokenId,
    rows.map((r) => Date.parse(String(r.grace_ends_at))),
    now,
  );
  if (full) throw violationProblem(full);
  await tx.run(
    `INSERT INTO replaced_values (digest, token_id, sealed_value, grace_ends_at)
     VALUES ($1, $2, $3, $4)`,
    [value.digest, tokenId, value.sealedValue, new Date(now + graceSeconds * 1000).toISOString()],
  );
}

/** When the grace of this replaced value of the token ends (epoch ms); null when it is none of its. */
export async function graceEnd(tx: SqlTx, tokenId: string, digest: string): Promise<number | null> {
  const [row] = await tx.query(
    'SELECT grace_ends_at FROM replaced_values WHERE digest = $1 AND token_id = $2',
    [digest, tokenId],
  );
  return row ? Date.parse(String(row.grace_ends_at)) : null;
}

/** The token a replaced value belongs to; null when it is none. */
export async function ownerOfReplaced(tx: SqlTx, digest: string): Promise<string | null> {
  const [row] = await tx.query('SELECT token_id FROM replaced_values WHERE digest = $1', [digest]);
  return row ? String(row.token_id) : null;
}

/** Ends a replaced value's grace now (it was reported exposed). */
export async function endGrace(tx: SqlTx, digest: string): Promise<void> {
  await tx.run('DELETE FROM replaced_values WHERE digest = $1', [digest]);
}

/** Forgets replaced values whose grace is over: they never verify again, nothing needs them. */
export async function purgeReplacedValues(store: Store): Promise<number> {
  const now = nowIso(store);
  return store.db.transaction((tx) =>
    tx.run('DELETE FROM replaced_values WHERE grace_ends_at <= $1', [now]),
  );
}

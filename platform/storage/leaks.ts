/**
 * Leak reports (SPEC §8): values found in public places by a secret scanner.
 * Every reported value that belongs to a token is made useless at once, in
 * one transaction with its audit event, its `token.exposed` event and its
 * revocation announcement: the token's current value → the token is disabled;
 * the value it replaced, still in its rotation grace → the grace ends now
 * (the current value was never exposed and keeps working).
 */
import { createHash } from 'node:crypto';
import { isApiTokenValue } from '../domain/secret-format.ts';
import type { TokenLeakLabels, TokenLeakReport } from '../schemas/index.ts';
import { insertAudit, type NewAuditEvent } from './audit.ts';
import { announceRevocation } from './revocations.ts';
import type { SqlTx } from './sql.ts';
import { nowIso, type Store } from './store.ts';
import { readToken } from './tokens.ts';
import { emitEvent } from './webhooks.ts';

export type LeakAudit = Pick<NewAuditEvent, 'actor' | 'requestId'>;

/** Labels each reported value; `exposed` lists the tokens that matched. */
export async function reportLeaks(
  store: Store,
  report: TokenLeakReport,
  audit: LeakAudit,
): Promise<{ labels: TokenLeakLabels; exposed: string[] }> {
  return store.db.transaction(async (tx) => {
    const labels: TokenLeakLabels = [];
    const exposed: string[] = [];
    for (const item of report) {
      const tokenId = isApiTokenValue(item.token) ? await expose(store, tx, item, audit) : null;
      if (tokenId) exposed.push(tokenId);
      labels.push({
        token_hash: createHash('sha256').update(item.token).digest('hex'),
        token_type: item.type,
        label: tokenId ? 'true_positive' : 'false_positive',
      });
    }
    return { labels, exposed };
  });
}

/** Makes one leaked value useless; the token's id, or null when it belongs to none. */
async function expose(
  store: Store,
  tx: SqlTx,
  item: TokenLeakReport[number],
  audit: LeakAudit,
): Promise<string | null> {
  const digest = store.box.digest(item.token);
  const [row] = await tx.query(
    `SELECT id, entity_id, status, digest FROM tokens WHERE digest = $1 OR previous_digest = $1 ${store.db.forUpdate}`,
    [digest],
  );
  if (!row) return null;
  const id = String(row.id);
  const value = row.digest === digest ? 'current' : 'previous';
  const change =
    value === 'current'
      ? `status = 'disabled'`
      : 'previous_digest = NULL, previous_expires_at = NULL';
  await tx.run(
    `UPDATE tokens SET ${change}, version = version + 1, updated_at = $2 WHERE id = $1`,
    [id, nowIso(store)],
  );
  const token = (await readToken(store, tx, id)).value;
  const exposure = { url: item.url ?? null, source: item.source ?? null, value } as const;
  await insertAudit(store, tx, {
    ...audit,
    action: 'token.expose',
    targetType: 'token',
    targetId: id,
    entityId: token.entityId,
    outcome: 'success',
    detail: `${value} value found${exposure.source ? ` (${exposure.source})` : ''}${
      exposure.url ? ` at ${exposure.url.slice(0, 500)}` : ''
    }; ${value === 'current' ? 'token disabled' : 'rotation grace ended'}`,
  });
  await emitEvent(store, tx, 'token.exposed', { entityId: token.entityId, token, exposure });
  await announceRevocation(store, tx, { tokenId: id });
  return id;
}

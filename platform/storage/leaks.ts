/**
 * Leak reports (SPEC §8): values found in public places by a secret scanner.
 * Every reported value that belongs to a token is made useless at once, in
 * one transaction: the token's current value → the token is disabled; the
 * value it replaced, still in its rotation grace → the grace ends now (the
 * current value was never exposed and keeps working). The mutation path
 * (server/mutation.ts) writes the audit events, the `token.exposed` events and
 * the revocation notices in the same transaction, through `effects`.
 */
import { createHash } from 'node:crypto';
import { isApiTokenValue } from '../domain/secret-format.ts';
import type { Token, TokenLeakLabels, TokenLeakReport, WebhookPayload } from '../schemas/index.ts';
import { type Effects, withEffects } from './effects.ts';
import type { SqlTx } from './sql.ts';
import { nowIso, type Store } from './store.ts';
import { readToken } from './tokens.ts';

/** A token one reported value belonged to, and where the value was found. */
export type Exposed = { token: Token; exposure: NonNullable<WebhookPayload['data']['exposure']> };

export type LeakOutcome = { labels: TokenLeakLabels; exposed: Exposed[] };

/** Labels each reported value; `exposed` lists the tokens that matched. */
export async function reportLeaks(
  store: Store,
  report: TokenLeakReport,
  effects: Effects<LeakOutcome>,
): Promise<LeakOutcome> {
  return withEffects(store, effects, async (tx) => {
    const labels: TokenLeakLabels = [];
    const exposed: Exposed[] = [];
    for (const item of report) {
      const found = isApiTokenValue(item.token) ? await expose(store, tx, item) : null;
      if (found) exposed.push(found);
      labels.push({
        token_hash: createHash('sha256').update(item.token).digest('hex'),
        token_type: item.type,
        label: found ? 'true_positive' : 'false_positive',
      });
    }
    return { labels, exposed };
  });
}

/** Makes one leaked value useless; null when it belongs to no token. */
async function expose(
  store: Store,
  tx: SqlTx,
  item: TokenLeakReport[number],
): Promise<Exposed | null> {
  const digest = store.box.digest(item.token);
  const [row] = await tx.query(
    `SELECT id, digest FROM tokens WHERE digest = $1 OR previous_digest = $1 ${store.db.forUpdate}`,
    [digest],
  );
  if (!row) return null;
  const id = String(row.id);
  const value = row.digest === digest ? 'current' : 'previous';
  // An exposed current value stays off until a rotation replaces it (exposed_digest);
  // an exposed replaced value loses the rest of its grace.
  await tx.run(
    value === 'current'
      ? `UPDATE tokens SET status = 'disabled', exposed_digest = digest, version = version + 1,
           updated_at = $2 WHERE id = $1`
      : `UPDATE tokens SET previous_digest = NULL, previous_expires_at = NULL,
           previous_sealed_value = NULL, version = version + 1, updated_at = $2 WHERE id = $1`,
    [id, nowIso(store)],
  );
  return {
    token: (await readToken(store, tx, id)).value,
    exposure: { url: item.url ?? null, source: item.source ?? null, value },
  };
}

/**
 * Leak reports (README "Lifecycle events, leak response, revocation across servers"): values found in public places by a secret scanner.
 * Every reported value that belongs to a token is made useless at once, in
 * one transaction: the token's current value → the token is disabled until a
 * rotation replaces that value; a value a rotation replaced → its grace ends
 * now (the current value, and other replaced values, were never exposed and
 * keep working). The mutation path
 * (server/mutation.ts) writes the audit events, the `token.exposed` events and
 * the revocation notices in the same transaction, through `effects`.
 */
import { createHash } from 'node:crypto';
import { isApiTokenValue } from '../../core/domain/secret-format.ts';
import type {
  Token,
  TokenLeakLabels,
  TokenLeakReport,
  WebhookPayload,
} from '../../core/schemas/index.ts';
import { type Effects, withEffects } from './effects.ts';
import { endGrace, ownerOfReplaced } from './replaced-values.ts';
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
  const current = await tx.query(`SELECT id FROM tokens WHERE digest = $1 ${store.db.forUpdate}`, [
    digest,
  ]);
  const id = current[0] ? String(current[0].id) : await ownerOfReplaced(tx, digest);
  if (!id) return null;
  const value = current[0] ? 'current' : 'previous';
  if (value === 'current') {
    // Off until a rotation replaces it (exposed_digest): PATCH cannot enable it.
    await tx.run(
      `UPDATE tokens SET status = 'disabled', exposed_digest = digest, version = version + 1,
         updated_at = $2 WHERE id = $1`,
      [id, nowIso(store)],
    );
  } else {
    // The token row's lock first, as a rotation takes it; gone meanwhile, so is the value.
    const [locked] = await tx.query(`SELECT id FROM tokens WHERE id = $1 ${store.db.forUpdate}`, [
      id,
    ]);
    if (!locked) return null;
    await endGrace(tx, digest);
    await tx.run('UPDATE tokens SET version = version + 1, updated_at = $2 WHERE id = $1', [
      id,
      nowIso(store),
    ]);
  }
  return {
    token: (await readToken(store, tx, id)).value,
    exposure: { url: item.url ?? null, source: item.source ?? null, value },
  };
}

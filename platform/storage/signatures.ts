/**
 * Signed requests are accepted once (README "Token permissions and limits"). Each accepted signature's digest
 * is inserted here until its `created` window closes; a second insert of the
 * same digest is a replay. Kept in the database, not in memory, so that a
 * replay is refused by every server of the database and after a restart.
 */
import type { Store } from './store.ts';

/** True when the signature had not been seen; false for a replay. */
export async function rememberSignature(
  store: Store,
  digest: string,
  expiresAt: string,
): Promise<boolean> {
  try {
    await store.db.transaction((tx) =>
      tx.run('INSERT INTO request_signatures (digest, expires_at) VALUES ($1, $2)', [
        digest,
        expiresAt,
      ]),
    );
    return true;
  } catch (error) {
    if (store.db.isUniqueViolation(error)) return false;
    throw error;
  }
}

/** Forgets signatures whose window has closed (they would be refused as stale anyway). */
export async function purgeSignatures(store: Store): Promise<number> {
  const now = new Date(store.clock()).toISOString();
  return store.db.transaction((tx) =>
    tx.run('DELETE FROM request_signatures WHERE expires_at < $1', [now]),
  );
}

/**
 * What a mutation writes beside its change, in the change's own transaction:
 * its audit events, the webhook events of its outbox, its revocation notices.
 * The server's mutation path (server/mutation.ts) decides them from the
 * result; a storage function only runs them before it commits, so a change
 * never commits without them and none of them is written without the change.
 */
import type { SqlTx } from './sql.ts';
import type { Store } from './store.ts';

/** Runs inside the transaction, after the change; `replayed`: an idempotent replay, nothing changed. */
export type Effects<T> = (tx: SqlTx, result: T, replayed: boolean) => Promise<void>;

/** Runs `fn` and then `effects` in one write transaction. */
export function withEffects<T>(
  store: Store,
  effects: Effects<T>,
  fn: (tx: SqlTx) => Promise<T>,
): Promise<T> {
  return store.db.transaction(async (tx) => {
    const result = await fn(tx);
    await effects(tx, result, false);
    return result;
  });
}

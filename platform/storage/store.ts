/**
 * What every storage function works with: the SQL driver, the tier table, the
 * secret box and the clock. openStorage (index.ts) builds one; callers hand it to the
 * per-concern modules (entities.ts, tokens.ts, access-keys.ts, audit.ts,
 * idempotency.ts).
 */
import type { SecretBox } from '../../core/crypto/cipher.ts';
import type { TierTable } from '../../core/domain/tiers.ts';
import type { SqlDriver } from './sql.ts';

export type Store = {
  db: SqlDriver;
  tiers: TierTable;
  box: SecretBox;
  clock: () => number;
  /** Default token lifetime when a create does not say. */
  tokenLifetimeMs: number;
};

/** The store's clock as an ISO-8601 timestamp, the form every row keeps. */
export function nowIso(store: Store): string {
  return new Date(store.clock()).toISOString();
}

/**
 * Opens the platform's storage: PostgreSQL when a database URL is given,
 * otherwise SQLite in `<dataDir>/tokenplane.db`. Migrations are applied and the
 * encryption key checked here. The result is the `Store` every storage
 * function takes (store.ts); callers import those functions from their
 * modules: entities.ts, tokens.ts, access-keys.ts, audit.ts, webhooks.ts, …
 */
import { join } from 'node:path';
import type { SecretBox } from '../../core/crypto/cipher.ts';
import type { TierTable } from '../../core/domain/tiers.ts';
import { tracingWanted } from '../../core/tracing.ts';
import { checkEncryptionKey, type EncryptionKeyInfo } from './encryption-check.ts';
import { migrate } from './migrations.ts';
import { PostgresDriver } from './postgres.ts';
import type { SqlDriver } from './sql.ts';
import { SqliteDriver } from './sqlite.ts';
import type { Store } from './store.ts';
import { traced } from './traced.ts';

export const SQLITE_FILE = 'tokenplane.db';

const DAY_MS = 86_400_000;

export type OpenStorageOptions = {
  dataDir: string;
  databaseUrl?: string | undefined;
  tiers: TierTable;
  box: SecretBox;
  /** Where the key came from; `save` when it was generated just now (see checkEncryptionKey). */
  key: Omit<EncryptionKeyInfo, 'database'>;
  clock?: () => number;
  /** Default token lifetime when a create does not say; README "Platform API": 365 days. */
  defaultTokenLifetimeMs?: number;
};

/** The database in words, without credentials. */
export function describeDatabase(dataDir: string, databaseUrl: string | undefined): string {
  if (!databaseUrl) return `the SQLite database ${join(dataDir, SQLITE_FILE)}`;
  try {
    const url = new URL(databaseUrl);
    return `the PostgreSQL database ${url.host}${url.pathname}`;
  } catch {
    return 'the PostgreSQL database';
  }
}

export async function openStorage(options: OpenStorageOptions): Promise<Store> {
  const db: SqlDriver = options.databaseUrl
    ? new PostgresDriver(options.databaseUrl)
    : new SqliteDriver(join(options.dataDir, SQLITE_FILE));
  const store: Store = {
    db,
    tiers: options.tiers,
    box: options.box,
    clock: options.clock ?? Date.now,
    tokenLifetimeMs: options.defaultTokenLifetimeMs ?? 365 * DAY_MS,
  };
  try {
    await migrate(db, store.clock);
    await checkEncryptionKey(store, {
      ...options.key,
      database: describeDatabase(options.dataDir, options.databaseUrl),
    });
  } catch (error) {
    await db.close().catch(() => {});
    throw error;
  }
  return tracingWanted() ? { ...store, db: traced(db) } : store;
}

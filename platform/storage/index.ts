/**
 * Opens the platform's storage: PostgreSQL when a database URL is given,
 * otherwise SQLite in `<dataDir>/tokenplane.db`. Migrations are applied here.
 */
import { join } from 'node:path';
import type { SecretBox } from '../crypto/cipher.ts';
import type { TierTable } from '../domain/tiers.ts';
import { PostgresDriver } from './postgres.ts';
import { Repository } from './repository.ts';
import type { SqlDriver } from './sql.ts';
import { SqliteDriver } from './sqlite.ts';

export * from './repository.ts';
export type { SqlDriver } from './sql.ts';

export const SQLITE_FILE = 'tokenplane.db';

export type OpenStorageOptions = {
  dataDir: string;
  databaseUrl?: string | undefined;
  tiers: TierTable;
  box: SecretBox;
  clock?: () => number;
};

export async function openStorage(options: OpenStorageOptions): Promise<Repository> {
  const db: SqlDriver = options.databaseUrl
    ? new PostgresDriver(options.databaseUrl)
    : new SqliteDriver(join(options.dataDir, SQLITE_FILE));
  const repo = new Repository({
    db,
    tiers: options.tiers,
    box: options.box,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  try {
    await repo.migrate();
    await repo.checkEncryptionKey();
  } catch (error) {
    await db.close().catch(() => {});
    throw error;
  }
  return repo;
}

/**
 * Opens the platform's storage: PostgreSQL when a database URL is given,
 * otherwise SQLite in `<dataDir>/tokenplane.db`. Migrations are applied here.
 */
import { join } from 'node:path';
import type { SecretBox } from '../crypto/cipher.ts';
import type { TierTable } from '../domain/tiers.ts';
import { PostgresDriver } from './postgres.ts';
import { type EncryptionKeyInfo, Repository } from './repository.ts';
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
  /** Where the key came from; `save` when it was generated just now (see checkEncryptionKey). */
  key: Omit<EncryptionKeyInfo, 'database'>;
  clock?: () => number;
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
    await repo.checkEncryptionKey({
      ...options.key,
      database: describeDatabase(options.dataDir, options.databaseUrl),
    });
  } catch (error) {
    await db.close().catch(() => {});
    throw error;
  }
  return repo;
}

/**
 * Upgrade tests: a data directory and database as an older version left them
 * (the schema of its migrations, rows written by hand), then a server of
 * today started on them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretBox } from '../../core/crypto/cipher.ts';
import { loadEncryptionKey } from '../../core/crypto/keys.ts';
import { type RunningServer, startServer } from '../../platform/main.ts';
import { MIGRATIONS, migrate } from '../../platform/storage/migrations.ts';
import { PostgresDriver } from '../../platform/storage/postgres.ts';
import type { SqlDriver, SqlTx } from '../../platform/storage/sql.ts';
import { SqliteDriver } from '../../platform/storage/sqlite.ts';
import { type Engine, postgresCluster } from './helpers.ts';

/** The entity every old database holds: a customer named "Old". */
export const OLD_ENTITY = '01900000-0000-7000-8000-000000000001';

export type OldRows = { tx: SqlTx; box: SecretBox; now: string };

/**
 * Writes the schema of the first `migrations`, the entity OLD_ENTITY and what
 * `write` adds (in one transaction, values sealed with the directory's key);
 * runs `test` against a server started on it; removes the directory after.
 */
export async function upgradedFrom(
  engine: Engine,
  migrations: number,
  write: (rows: OldRows) => Promise<unknown>,
  test: (server: RunningServer) => Promise<void>,
): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tokenplane-migrate-'));
  const databaseUrl =
    engine === 'postgres' ? await (await postgresCluster()).createDatabase() : undefined;
  try {
    const db: SqlDriver = databaseUrl
      ? new PostgresDriver(databaseUrl)
      : new SqliteDriver(join(dataDir, 'tokenplane.db'));
    const key = loadEncryptionKey(dataDir, undefined);
    if (key.source === 'generated') key.save();
    const box = new SecretBox(key.value);
    const now = new Date().toISOString();
    await migrate(db, Date.now, MIGRATIONS.slice(0, migrations));
    await db.transaction(async (tx) => {
      await tx.run(
        `INSERT INTO entities (id, name, kind, parent_id, tier, version, created_at, updated_at)
         VALUES ($1, 'Old', 'customer', NULL, 'advanced', 1, $2, $2)`,
        [OLD_ENTITY, now],
      );
      await write({ tx, box, now });
    });
    await db.close();
    const server = await startServer({
      port: 0,
      dataDir,
      env: {},
      logger: false,
      ...(databaseUrl ? { databaseUrl } : {}),
    });
    try {
      await test(server);
    } finally {
      await server.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

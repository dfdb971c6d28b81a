/**
 * The start-up check that the encryption key is the one this database was
 * first used with: every look-up digest and sealed value depends on it, so
 * starting anyway would turn every token into a silent 401.
 */
import type { Store } from './store.ts';

/** Where the encryption key came from, for the start-up check and its messages. */
export type EncryptionKeyInfo = {
  /** `TOKENPLANE_ENCRYPTION_KEY`, or the key file's path. */
  from: string;
  /** The database, for people: `the SQLite database <path>`, `the PostgreSQL database <host/db>`. */
  database: string;
  /** Present when the key was generated just now: writes its file. */
  save?: () => void;
};

const SETTING = 'encryption-key-check';

function missingKeyFile(path: string, database: string): Error {
  return new Error(
    `The encryption key file ${path} is missing, but ${database} already holds data sealed with ` +
      `the key it held. Restore ${path} from your backup (or set TOKENPLANE_ENCRYPTION_KEY to that ` +
      'key) and start again. No new key was generated: it would leave every stored token unverifiable.',
  );
}

/**
 * Fails fast on a key the database was not created with. A key generated just
 * now (`key.save` present) is written only for a database without data; next
 * to one with data, its file is missing and must be restored, not replaced.
 */
export async function checkEncryptionKey(store: Store, key: EncryptionKeyInfo): Promise<void> {
  const { box } = store;
  await store.db.transaction(async (tx) => {
    const [row] = await tx.query('SELECT value FROM settings WHERE name = $1', [SETTING]);
    if (key.save) {
      const [data] = await tx.query('SELECT 1 AS ok FROM entities LIMIT 1');
      if (row || data) throw missingKeyFile(key.from, key.database);
      key.save();
    }
    if (!row) {
      await tx.run('INSERT INTO settings (name, value) VALUES ($1, $2)', [
        SETTING,
        box.seal('tokenplane', SETTING),
      ]);
      return;
    }
    try {
      box.open(String(row.value), SETTING);
    } catch {
      throw new Error(
        `The encryption key (${key.from}) is not the key ${key.database} was created with: stored ` +
          'tokens could not be verified or revealed. Start with the original key (the encryption-key ' +
          'file of the data dir it was generated into, or the TOKENPLANE_ENCRYPTION_KEY used then).',
      );
    }
  });
}

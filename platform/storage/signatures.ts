/**
 * Signed requests are accepted once (README "Token permissions and limits").
 * Each accepted signature's digest is stored until its `created` window
 * closes; a digest stored already is a replay. Kept in the database, not in
 * memory, so that a replay is refused by every server of the database and
 * after a restart.
 *
 * The digests of concurrent requests share one insert — those that arrived in
 * one turn of the event loop, and while a batch is written the next gathers —
 * and each request is answered only once its own digest is stored — the guarantee is the same, at one commit per batch
 * rather than one per request. A replay this process has seen lately is
 * refused without asking the database.
 */
import type { Store } from './store.ts';

/** Digests in one insert: 2 parameters each, well inside SQLite's limit. */
const MAX_BATCH = 500;
/** Digests this process remembers itself (the database remembers them all). */
const SEEN_HERE = 10_000;

type Waiting = {
  digest: string;
  expiresAt: string;
  resolve(fresh: boolean): void;
  reject(error: unknown): void;
};

export class SignatureLedger {
  readonly #store: Store;
  #waiting: Waiting[] = [];
  #writing = false;
  /** Digests accepted (or being stored) by this process, oldest first. */
  readonly #seen = new Set<string>();

  constructor(store: Store) {
    this.#store = store;
  }

  /** True when the signature had not been seen; false for a replay. */
  remember(digest: string, expiresAt: string): Promise<boolean> {
    if (this.#seen.has(digest)) return Promise.resolve(false);
    this.#seen.add(digest);
    if (this.#seen.size > SEEN_HERE) this.#seen.delete(this.#seen.values().next().value as string);
    return new Promise((resolve, reject) => {
      this.#waiting.push({ digest, expiresAt, resolve, reject });
      // After the requests that arrived in this turn of the event loop: one insert for all.
      if (!this.#writing) {
        this.#writing = true;
        setImmediate(() => void this.#write());
      }
    });
  }

  async #write(): Promise<void> {
    try {
      while (this.#waiting.length > 0) {
        const batch = this.#waiting.splice(0, MAX_BATCH);
        try {
          const stored = await insertNew(this.#store, batch);
          for (const w of batch) w.resolve(stored.delete(w.digest));
        } catch (error) {
          for (const w of batch) {
            this.#seen.delete(w.digest);
            w.reject(error);
          }
        }
      }
    } finally {
      this.#writing = false;
    }
  }
}

/** Inserts the digests not stored yet, in one statement; which ones it stored. */
async function insertNew(store: Store, batch: readonly Waiting[]): Promise<Set<string>> {
  const values = batch.map((_, i) => `($${2 * i + 1}, $${2 * i + 2})`).join(', ');
  const rows = await store.db.transaction((tx) =>
    tx.query(
      `INSERT INTO request_signatures (digest, expires_at) VALUES ${values}
       ON CONFLICT (digest) DO NOTHING RETURNING digest`,
      batch.flatMap((w) => [w.digest, w.expiresAt]),
    ),
  );
  return new Set(rows.map((r) => String(r.digest)));
}

/** Forgets signatures whose window has closed (they would be refused as stale anyway). */
export async function purgeSignatures(store: Store): Promise<number> {
  const now = new Date(store.clock()).toISOString();
  return store.db.transaction((tx) =>
    tx.run('DELETE FROM request_signatures WHERE expires_at < $1', [now]),
  );
}

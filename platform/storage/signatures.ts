/**
 * Signed requests are accepted once (README "Token permissions and limits").
 * Each accepted signature's digest is stored until its window closes, `window`
 * seconds after its `created` (whichever side of the server's clock it lies:
 * the signature is stale then); a digest stored already is a replay. Kept in
 * the database, not in memory, so that a replay is refused by every server of
 * the database and after a restart.
 *
 * The expiry follows from the signature alone, so a replay has the same key
 * (expiry, digest) as the original, and the rows of one second are stored side
 * by side (migration 9): one insert touches a page or two, not one page per
 * row of a large index.
 *
 * The digests of concurrent requests share one insert — those that arrived in
 * one turn of the event loop, and while a batch is written the next gathers —
 * and each request is answered only once its own digest is stored — the
 * guarantee is the same, at one commit per batch rather than one per request.
 * A replay this process has seen lately is refused without asking the database.
 */
import type { Store } from './store.ts';

/** Digests in one insert: 2 parameters each, well inside SQLite's limit. */
const MAX_BATCH = 500;
/** Digests in each generation this process remembers itself (the database remembers them all). */
const SEEN_HERE = 10_000;

type Waiting = {
  digest: string;
  createdS: number;
  expiresAt: string;
  resolve(fresh: boolean): void;
  reject(error: unknown): void;
};

export class SignatureLedger {
  readonly #store: Store;
  readonly #windowS: number;
  #waiting: Waiting[] = [];
  #writing = false;
  /**
   * Digests accepted (or being stored) by this process lately: two
   * generations, the older dropped whole when the newer fills (deleting a
   * Set's oldest entry one by one leaves holes its iteration walks past).
   */
  #seen = new Set<string>();
  #seenBefore = new Set<string>();
  /** Signatures created before this second are refused; read once (migration 9). */
  #refuseCreatedBeforeS: number | undefined;
  #lastExpiry = { seconds: Number.NaN, iso: '' };

  constructor(store: Store, windowS: number) {
    this.#store = store;
    this.#windowS = windowS;
  }

  /** True when the signature had not been seen; false for a replay. */
  remember(digest: string, createdS: number): Promise<boolean> {
    if (this.#seen.has(digest) || this.#seenBefore.has(digest)) return Promise.resolve(false);
    if (this.#seen.size >= SEEN_HERE) {
      this.#seenBefore = this.#seen;
      this.#seen = new Set();
    }
    this.#seen.add(digest);
    const expiresAt = this.#expiresAt(createdS + this.#windowS + 1);
    return new Promise((resolve, reject) => {
      this.#waiting.push({ digest, createdS, expiresAt, resolve, reject });
      // After the requests that arrived in this turn of the event loop: one insert for all.
      if (!this.#writing) {
        this.#writing = true;
        setImmediate(() => void this.#write());
      }
    });
  }

  /** The ISO text of a second; the signatures of one second share it (Date's formatting is not free). */
  #expiresAt(seconds: number): string {
    if (seconds !== this.#lastExpiry.seconds) {
      this.#lastExpiry = { seconds, iso: new Date(seconds * 1000).toISOString() };
    }
    return this.#lastExpiry.iso;
  }

  async #write(): Promise<void> {
    try {
      while (this.#waiting.length > 0) {
        const batch = this.#waiting.splice(0, MAX_BATCH);
        try {
          this.#refuseCreatedBeforeS ??= await this.#copiedCutoff();
          const cutoff = this.#refuseCreatedBeforeS;
          const stored = await insertNew(
            this.#store,
            batch.filter((w) => w.createdS >= cutoff),
          );
          for (const w of batch) w.resolve(stored.delete(w.digest));
        } catch (error) {
          for (const w of batch) {
            this.#seen.delete(w.digest);
            this.#seenBefore.delete(w.digest);
            w.reject(error);
          }
        }
      }
    } finally {
      this.#writing = false;
    }
  }

  /**
   * Rows that migration 9 copied keep the expiry the version before stored:
   * the later of `created` and the second it was accepted, plus the window. A
   * replay of one created before it was accepted derives another key; each
   * such signature was created before the latest of those seconds, and before
   * the migration ran, so signatures created before the earlier of the two are
   * refused (for a window at most: older ones are stale anyway).
   */
  async #copiedCutoff(): Promise<number> {
    const [row] = await this.#store.db.query<{ latest_expiry: string | null; applied_at: string }>(
      `SELECT c.latest_expiry, m.applied_at FROM request_signatures_copied c, schema_migrations m
        WHERE m.version = 9`,
    );
    if (!row?.latest_expiry) return Number.NEGATIVE_INFINITY;
    const latestAccepted = Date.parse(row.latest_expiry) / 1000 - this.#windowS - 1;
    return Math.min(latestAccepted, Math.floor(Date.parse(row.applied_at) / 1000));
  }
}

/** Inserts the digests not stored yet, in one statement; which ones it stored. */
async function insertNew(store: Store, batch: readonly Waiting[]): Promise<Set<string>> {
  if (batch.length === 0) return new Set();
  const values = batch.map((_, i) => `($${2 * i + 1}, $${2 * i + 2})`).join(', ');
  const rows = await store.db.transaction((tx) =>
    tx.query(
      `INSERT INTO request_signatures (expires_at, digest) VALUES ${values}
       ON CONFLICT DO NOTHING RETURNING digest`,
      batch.flatMap((w) => [w.expiresAt, w.digest]),
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

/**
 * Idempotent creates: an `Idempotency-Key` makes a retried create return the
 * first response instead of creating twice. `requestHash` fingerprints the
 * request body so that one key cannot be reused for a different request.
 */
import { createHash } from 'node:crypto';
import { ProblemError } from '../../core/domain/problems.ts';
import type { Effects } from './effects.ts';
import type { Row, SqlTx } from './sql.ts';
import { nowIso, type Store } from './store.ts';

export type Idempotency = { scope: string; key: string; requestHash: string };
export type Idempotent<T> = { result: T; replayed: boolean };

/**
 * Judges a stored response before it is replayed: the problem to answer
 * instead (what it created was deleted, or the value it holds no longer
 * authenticates), or null to replay it.
 */
export type ReplayGuard<T> = (tx: SqlTx, stored: T) => Promise<ProblemError | null>;

/**
 * The answer to a replay whose object is gone: never the old response (it may
 * hold a value). `gone` names what is gone, so that a client that retried a
 * create knows whether the object it asked for is (an entity whose default
 * token's value is gone still exists: `entityId` then names it).
 */
export function replayGone(
  what: string,
  id: string,
  since: string,
  extensions: { entityId?: string } = {},
): ProblemError {
  const still = extensions.entityId ? ` (the entity ${extensions.entityId} still exists)` : '';
  return new ProblemError(
    'idempotency-gone',
    `The ${what} ${id} that this Idempotency-Key created ${since}${still}, so its response is not ` +
      'replayed and nothing was created now. Send a new Idempotency-Key to create another.',
    { id, gone: what, ...extensions },
  );
}

/**
 * Runs a create in one transaction with its idempotency record and its
 * effects (effects.ts; on a replay too, told so): the first
 * successful response is stored (sealed: it may hold a secret) in the same
 * transaction, so a replay returns exactly it and can never issue twice. A
 * failed request stores nothing and may be retried. Two concurrent requests
 * with one key: the loser's insert hits the primary key, it rolls back and
 * answers with the winner's stored response. `guard` keeps a replay from
 * resurrecting what was deleted since.
 */
export async function idempotent<T>(
  store: Store,
  idem: Idempotency | undefined,
  effects: Effects<T>,
  guard: ReplayGuard<T>,
  fn: (tx: SqlTx) => Promise<T>,
): Promise<Idempotent<T>> {
  const done = async (tx: SqlTx, outcome: Idempotent<T>): Promise<Idempotent<T>> => {
    await effects(tx, outcome.result, outcome.replayed);
    return outcome;
  };
  if (!idem) {
    return store.db.transaction(async (tx) => done(tx, { result: await fn(tx), replayed: false }));
  }
  const aad = `${idem.scope}\n${idem.key}`;
  const attempt = () =>
    store.db.transaction(async (tx): Promise<Idempotent<T>> => {
      const [stored] = await tx.query(
        'SELECT request_hash, sealed_response FROM idempotency_keys WHERE scope = $1 AND key = $2',
        [idem.scope, idem.key],
      );
      if (stored) {
        const result = replay<T>(store, stored, idem, aad);
        const gone = await guard(tx, result);
        if (gone) throw gone;
        return done(tx, { result, replayed: true });
      }
      const result = await fn(tx);
      await tx.run(
        'INSERT INTO idempotency_keys (scope, key, request_hash, sealed_response, created_at) VALUES ($1, $2, $3, $4, $5)',
        [
          idem.scope,
          idem.key,
          idem.requestHash,
          store.box.seal(JSON.stringify(result), aad),
          nowIso(store),
        ],
      );
      return done(tx, { result, replayed: false });
    });
  try {
    return await attempt();
  } catch (error) {
    if (store.db.isUniqueViolation(error)) return attempt();
    throw error;
  }
}

function replay<T>(store: Store, stored: Row, idem: Idempotency, aad: string): T {
  if (stored.request_hash !== idem.requestHash) {
    throw new ProblemError(
      'idempotency-conflict',
      'This Idempotency-Key was already used with a different request body. Use a new key for a new request.',
    );
  }
  return JSON.parse(store.box.open(String(stored.sealed_response), aad)) as T;
}

/** Forget idempotency records older than `maxAgeMs` (kept at least 24 h by the caller's choice). */
export async function purgeIdempotency(store: Store, maxAgeMs: number): Promise<number> {
  const before = new Date(store.clock() - maxAgeMs).toISOString();
  return store.db.transaction((tx) =>
    tx.run('DELETE FROM idempotency_keys WHERE created_at < $1', [before]),
  );
}

/** SHA-256 of a canonical JSON rendering: the request fingerprint of an idempotent create. */
export function requestHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('base64url');
}

/** JSON with object keys sorted and undefined members dropped: equal requests, equal text. */
function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

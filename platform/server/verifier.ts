/**
 * API token verification: the hot path of every analytics request.
 *
 * 1. Reject values that are not well-formed (prefix, length, checksum) without
 *    touching the database.
 * 2. Look the value up in an in-process cache (short TTL, default 5 s, keyed
 *    by its SHA-256), else its HMAC-SHA-256 digest in the database (one
 *    indexed query).
 * 3. Judge status, expiry and the rotation grace against the clock on every
 *    request, so a cached entry never outlives its token's validity. A value
 *    a rotation replaced is cached under its own digest with its own grace's
 *    end; a current value costs nothing more for there being replaced ones.
 *
 * Disable, delete, rotate, permission and tier changes invalidate the cache at
 * once within the process; on PostgreSQL other servers hear of them through
 * the revocation channel (storage/listener.ts) and invalidate within moments.
 * Without that channel (SQLite, or while it is down) other servers see a
 * change within the TTL — and past the TTL an entry is never used: when the
 * database cannot be asked, the answer is 503, not a stale yes. A generation
 * counter keeps a look-up that raced an invalidation from re-filling the cache
 * with stale data.
 *
 * Each cache holds at most `cacheSize` entries (least recently used go first),
 * however many distinct values, well-formed or not, arrive; their sizes are in
 * `tokenplane_cache_entries{cache}`.
 *
 * `lastUsedAt` is recorded in memory and written in one batch every few seconds
 * (and on close), never as one database write per request.
 */

import { createSecretKey, hash, type KeyObject } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { SecretBox } from '../../core/crypto/cipher.ts';
import { ProblemError } from '../../core/domain/problems.ts';
import { isApiTokenValue } from '../../core/domain/secret-format.ts';
import type { Store } from '../storage/store.ts';
import {
  findTokenByDigest,
  findTokenById,
  recordLastUsed,
  type TokenRecord,
} from '../storage/token-lookups.ts';
import type { PlatformMetrics } from './metrics.ts';
import { compilePolicy, type TokenPolicy } from './permissions/policy.ts';

export type VerifiedToken = {
  tokenId: string;
  entityId: string;
  tier: string;
  /** Expiry in epoch seconds; null = never. */
  exp: number | null;
  /** The token's permissions, compiled. */
  policy: TokenPolicy;
};

type CacheEntry = {
  record: TokenRecord;
  /** What a request is answered with, made once per look-up rather than per request. */
  token: VerifiedToken;
  expiresAtMs: number | null;
  cachedAt: number;
};

/** A token found by a value's digest; `graceEndsAtMs` null: its current value. */
type ValueEntry = CacheEntry & { graceEndsAtMs: number | null };

/** A value as an HMAC key (memory only), until when it signs (null: the current value). */
type SigningKey = { key: KeyObject; graceEndsAtMs: number | null };

/** A token found by id for a signed request, with its values as HMAC keys, the current one first. */
type SigningEntry = CacheEntry & { keys: SigningKey[] };

export type VerifierOptions = {
  store: Store;
  box: SecretBox;
  metrics: PlatformMetrics;
  clock: () => number;
  cacheTtlMs?: number;
  cacheSize?: number;
  lastUsedFlushMs?: number;
  onFlushError?: (error: unknown) => void;
};

export class TokenVerifier {
  readonly #store: Store;
  readonly #box: SecretBox;
  readonly #metrics: PlatformMetrics;
  readonly #clock: () => number;
  readonly #ttl: number;
  readonly #cache: LRUCache<string, ValueEntry>;
  /** Well-formed values (by cache key) that named no token, with when that was found. */
  readonly #unknown: LRUCache<string, number>;
  /** Signing look-ups by token id; `false`: no such token. */
  readonly #byId: LRUCache<string, SigningEntry | false>;
  #generation = 0;
  #lastUsed = new Map<string, number>();
  readonly #timer: NodeJS.Timeout;
  readonly #onFlushError: (error: unknown) => void;

  constructor(options: VerifierOptions) {
    this.#store = options.store;
    this.#box = options.box;
    this.#metrics = options.metrics;
    this.#clock = options.clock;
    this.#ttl = options.cacheTtlMs ?? 5000;
    const max = options.cacheSize ?? 10_000;
    this.#cache = new LRUCache({ max });
    this.#unknown = new LRUCache({ max });
    this.#byId = new LRUCache({ max });
    options.metrics.countEntries('verified-tokens', () => this.#cache.size);
    options.metrics.countEntries('unknown-tokens', () => this.#unknown.size);
    options.metrics.countEntries('signing-tokens', () => this.#byId.size);
    options.metrics.countEntries('pending-last-used', () => this.#lastUsed.size);
    this.#onFlushError = options.onFlushError ?? (() => {});
    this.#timer = setInterval(() => {
      this.flush().catch(this.#onFlushError);
    }, options.lastUsedFlushMs ?? 5000);
    this.#timer.unref();
  }

  /**
   * `recordUse: false` checks without counting a use (introspection). A value
   * the cache knows is answered at once, without a promise: the hot path.
   */
  verify(value: string, recordUse = true): VerifiedToken | null | Promise<VerifiedToken | null> {
    // The caches are keyed by a plain SHA-256 of the value: a one-shot hash costs
    // a fraction of the keyed digest, which only the database look-up needs. Both
    // stay in this process; 178 random bits leave nothing to guess from either.
    // Callers pass at most 512 characters (the bearer header, the introspection
    // body), so hashing before the format check costs a malformed value little.
    // 'binary' (latin1): a 32-character key, without base64's encoding step.
    const key = hash('sha256', value, 'binary');
    const now = this.#clock();
    // The known values first: the hot path looks up one cache, not two.
    const entry = this.#cache.get(key);
    if (entry && now - entry.cachedAt <= this.#ttl) {
      return this.#judge(entry, 'hit', now, recordUse);
    }
    // Well-formed values are easy to forge (the checksum is public): remember
    // unknown ones briefly so a flood of them does not reach the database.
    // A value unknown now can only become known by issuing that exact value,
    // which 178 random bits rule out, so no value is in both caches.
    const unknownAt = this.#unknown.get(key);
    if (unknownAt !== undefined && now - unknownAt <= this.#ttl) {
      this.#metrics.verification('unknown', 'hit');
      return null;
    }
    // Checked only here: both caches hold nothing but values that passed it.
    if (!isApiTokenValue(value)) {
      this.#metrics.verification('malformed', 'none');
      return null;
    }
    return this.#lookUp(value, key, now, recordUse);
  }

  async #lookUp(
    value: string,
    key: string,
    now: number,
    recordUse: boolean,
  ): Promise<VerifiedToken | null> {
    const generation = this.#generation;
    const digest = this.#box.digest(value);
    const match = await unavailableOnFailure(() => findTokenByDigest(this.#store, digest));
    if (!match) {
      this.#cache.delete(key);
      this.#unknown.set(key, now);
      this.#metrics.verification('unknown', 'miss');
      return null;
    }
    const entry = { ...cacheEntry(match.record, now), graceEndsAtMs: timeOf(match.graceEndsAt) };
    if (generation === this.#generation) this.#cache.set(key, entry);
    return this.#judge(entry, 'miss', now, recordUse);
  }

  #judge(entry: ValueEntry, cache: string, now: number, recordUse: boolean) {
    const valid = isCurrent(entry, now) && stillVerifies(entry, now);
    return this.#answer(entry, valid, cache, now, recordUse);
  }

  /**
   * The token named by a signed request's `keyid`, with its values as HMAC
   * keys: the current one, then those replaced whose grace lasts; null when
   * unknown, disabled or expired. Cached like `verify`; the use is recorded by
   * `recordUse` once the signature holds.
   */
  async verifyById(tokenId: string): Promise<{ token: VerifiedToken; keys: KeyObject[] } | null> {
    const now = this.#clock();
    let entry = this.#byId.get(tokenId);
    let cache = 'hit';
    if (entry === undefined || (entry !== false && now - entry.cachedAt > this.#ttl)) {
      cache = 'miss';
      const generation = this.#generation;
      const found = await unavailableOnFailure(() => findTokenById(this.#store, tokenId));
      entry = found
        ? {
            ...cacheEntry(found.record, now),
            keys: found.values.map(({ value, graceEndsAt }) => ({
              key: createSecretKey(Buffer.from(value)),
              graceEndsAtMs: timeOf(graceEndsAt),
            })),
          }
        : false;
      if (generation === this.#generation) this.#byId.set(tokenId, entry);
    }
    if (entry === false) {
      this.#metrics.verification('unknown', cache);
      return null;
    }
    const token = this.#answer(entry, isCurrent(entry, now), cache, now, false);
    if (!token) return null;
    return { token, keys: entry.keys.filter((k) => stillVerifies(k, now)).map((k) => k.key) };
  }

  recordUse(tokenId: string): void {
    this.#lastUsed.set(tokenId, this.#clock());
  }

  #answer(
    entry: CacheEntry,
    valid: boolean,
    cache: string,
    now: number,
    recordUse: boolean,
  ): VerifiedToken | null {
    this.#metrics.verification(valid ? 'valid' : 'invalid', cache);
    if (!valid) return null;
    const { record } = entry;
    if (recordUse) this.#lastUsed.set(record.tokenId, now);
    return entry.token;
  }

  invalidateToken(tokenId: string): void {
    this.#invalidate((record) => record.tokenId === tokenId);
  }

  invalidateEntity(entityId: string): void {
    this.#invalidate((record) => record.entityId === entityId);
  }

  /** Forget everything cached (the revocation channel was down: anything may have changed). */
  invalidateAll(): void {
    this.#generation++;
    this.#cache.clear();
    this.#byId.clear();
    this.#unknown.clear();
  }

  /** A use recorded in memory and not yet written, for read-your-writes on GET. */
  pendingLastUsed(tokenId: string): string | undefined {
    const at = this.#lastUsed.get(tokenId);
    return at === undefined ? undefined : new Date(at).toISOString();
  }

  async flush(): Promise<void> {
    if (this.#lastUsed.size === 0) return;
    const batch = this.#lastUsed;
    this.#lastUsed = new Map();
    const entries = new Map<string, string>();
    for (const [id, at] of batch) entries.set(id, new Date(at).toISOString());
    try {
      await recordLastUsed(this.#store, entries);
    } catch (error) {
      for (const [id, at] of batch) if (!this.#lastUsed.has(id)) this.#lastUsed.set(id, at);
      throw error;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }

  #invalidate(matches: (record: TokenRecord) => boolean): void {
    this.#generation++;
    // Keys first: deleting while walking the cache is not promised to be safe.
    const stale = [...this.#cache.entries()].filter(([, entry]) => matches(entry.record));
    for (const [digest] of stale) this.#cache.delete(digest);
    const signing = [...this.#byId.entries()].filter(
      ([, entry]) => entry === false || matches(entry.record),
    );
    for (const [id] of signing) this.#byId.delete(id);
  }
}

/** A look-up the database could not answer is a 503, never a fall-back to stale data. */
async function unavailableOnFailure<T>(lookUp: () => Promise<T>): Promise<T> {
  try {
    return await lookUp();
  } catch {
    throw new ProblemError(
      'unavailable',
      'The token cannot be verified right now: the database is unreachable and this server does not answer from a cache older than its lifetime. Retry shortly.',
    );
  }
}

function cacheEntry(record: TokenRecord, now: number): CacheEntry {
  const expiresAtMs = timeOf(record.expiresAt);
  // Frozen: every request that presents the value shares this one object.
  const token: VerifiedToken = Object.freeze({
    tokenId: record.tokenId,
    entityId: record.entityId,
    tier: record.tier,
    exp: expiresAtMs === null ? null : Math.floor(expiresAtMs / 1000),
    policy: compilePolicy(record.permissions),
  });
  return { record, token, expiresAtMs, cachedAt: now };
}

const timeOf = (iso: string | null): number | null => (iso === null ? null : Date.parse(iso));

/** The current value, or a replaced one whose grace has not ended. */
function stillVerifies(value: { graceEndsAtMs: number | null }, now: number): boolean {
  return value.graceEndsAtMs === null || value.graceEndsAtMs > now;
}

/** Active and not expired (which value was presented is judged by the caller). */
function isCurrent(entry: CacheEntry, now: number): boolean {
  return (
    entry.record.status === 'active' && (entry.expiresAtMs === null || entry.expiresAtMs > now)
  );
}

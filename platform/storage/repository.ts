/**
 * The platform's repository: every read and write of entities, tokens, access
 * keys, audit events and idempotency records, with the domain rules (ceiling,
 * quota) checked inside the same write transaction as the change they guard.
 *
 * One implementation over a small SQL driver (sql.ts) for both engines; the
 * locking that keeps concurrent requests within quota and ceiling is
 * described in locks.ts.
 *
 * This class is the façade the server uses; each concern lives in its own
 * module of functions over a `Store` (store.ts): entities.ts, tokens.ts,
 * access-keys.ts, audit.ts, idempotency.ts. Visibility (`scope`) is explained
 * in scope.ts.
 */
import type { SecretBox } from '../crypto/cipher.ts';
import type { TierTable } from '../domain/tiers.ts';
import type {
  AccessKey,
  AccessKeyWithKey,
  AuditEvent,
  CreateAccessKeyRequest,
  CreateEntityRequest,
  CreateEntityResponse,
  CreateTokenRequest,
  CreateWebhookRequest,
  Entity,
  Token,
  TokenLeakLabels,
  TokenLeakReport,
  TokenWithValue,
  UpdateEntityRequest,
  UpdateTokenRequest,
  Webhook,
  WebhookDelivery,
  WebhookWithSecret,
} from '../schemas/index.ts';
import type { AccessKeyRecord } from './access-keys.ts';
import * as accessKeys from './access-keys.ts';
import type { AuditWith, NewAuditEvent } from './audit.ts';
import * as auditEvents from './audit.ts';
import * as entities from './entities.ts';
import { type Idempotency, type Idempotent, purgeIdempotency } from './idempotency.ts';
import { type LeakAudit, reportLeaks } from './leaks.ts';
import { migrate } from './migrations.ts';
import { scanNotices } from './notices.ts';
import type { Page, PageRequest } from './pagination.ts';
import type { Versioned } from './rows.ts';
import { type Scope, type Target, targetVisible } from './scope.ts';
import * as signatures from './signatures.ts';
import type { SqlDriver } from './sql.ts';
import type { Store, StoreSignals } from './store.ts';
import type { TokenRecord, TokenUpdate } from './tokens.ts';
import * as tokens from './tokens.ts';
import { type Lease, leaseUsage, returnUsage } from './usage.ts';
import type { AttemptOutcome, ClaimedDelivery } from './webhooks.ts';
import * as webhooks from './webhooks.ts';

// The types and helpers the server imports from here, wherever they now live.
export { type Idempotency, type Idempotent, requestHash } from './idempotency.ts';
export { encodeCursor, type Page, type PageRequest } from './pagination.ts';
export type {
  AccessKeyRecord,
  AttemptOutcome,
  AuditWith,
  ClaimedDelivery,
  Lease,
  NewAuditEvent,
  Scope,
  StoreSignals,
  Target,
  TokenRecord,
  TokenUpdate,
  Versioned,
};

type IfMatch = (etag: string) => boolean;

export type RepositoryOptions = {
  db: SqlDriver;
  tiers: TierTable;
  box: SecretBox;
  clock?: () => number;
  /** Default token lifetime when a create does not say; SPEC §1: 365 days. */
  defaultTokenLifetimeMs?: number;
};

const DAY_MS = 86_400_000;

/** Where the encryption key came from, for the start-up check and its messages. */
export type EncryptionKeyInfo = {
  /** `TOKENPLANE_ENCRYPTION_KEY`, or the key file's path. */
  from: string;
  /** The database, for people: `the SQLite database <path>`, `the PostgreSQL database <host/db>`. */
  database: string;
  /** Present when the key was generated just now: writes its file. */
  save?: () => void;
};

function missingKeyFile(path: string, database: string): Error {
  return new Error(
    `The encryption key file ${path} is missing, but ${database} already holds data sealed with ` +
      `the key it held. Restore ${path} from your backup (or set TOKENPLANE_ENCRYPTION_KEY to that ` +
      'key) and start again. No new key was generated: it would leave every stored token unverifiable.',
  );
}

export class Repository {
  readonly db: SqlDriver;
  readonly tiers: TierTable;
  /** Set by the server: what to wake after a commit (see StoreSignals). */
  readonly signals: StoreSignals = { outbox: () => {} };
  readonly #store: Store;

  constructor(options: RepositoryOptions) {
    this.db = options.db;
    this.tiers = options.tiers;
    this.#store = {
      db: options.db,
      tiers: options.tiers,
      box: options.box,
      clock: options.clock ?? Date.now,
      tokenLifetimeMs: options.defaultTokenLifetimeMs ?? 365 * DAY_MS,
      signals: this.signals,
    };
  }

  migrate(): Promise<number[]> {
    return migrate(this.db, this.#store.clock);
  }

  /**
   * Fails fast when the encryption key is not the one this database was first
   * used with: every look-up digest and sealed value depends on it, so starting
   * anyway would turn every token into a silent 401. A key generated just now
   * (`key.save` present) is written only for a database without data; next to
   * one with data, its file is missing and must be restored, not replaced.
   */
  async checkEncryptionKey(key: EncryptionKeyInfo): Promise<void> {
    const name = 'encryption-key-check';
    const { box } = this.#store;
    await this.db.transaction(async (tx) => {
      const [row] = await tx.query('SELECT value FROM settings WHERE name = $1', [name]);
      if (key.save) {
        const [data] = await tx.query('SELECT 1 AS ok FROM entities LIMIT 1');
        if (row || data) throw missingKeyFile(key.from, key.database);
        key.save();
      }
      if (!row) {
        await tx.run('INSERT INTO settings (name, value) VALUES ($1, $2)', [
          name,
          box.seal('tokenplane', name),
        ]);
        return;
      }
      try {
        box.open(String(row.value), name);
      } catch {
        throw new Error(
          `The encryption key (${key.from}) is not the key ${key.database} was created with: stored ` +
            'tokens could not be verified or revealed. Start with the original key (the encryption-key ' +
            'file of the data dir it was generated into, or the TOKENPLANE_ENCRYPTION_KEY used then).',
        );
      }
    });
  }

  close(): Promise<void> {
    return this.db.close();
  }

  /** Does the entity, token or access key exist inside the caller's subtree? */
  inScope(scope: Scope, target: Target): Promise<boolean> {
    return targetVisible(this.db, scope, target);
  }

  // ---------------------------------------------------------------- entities

  createEntity(
    scope: Scope,
    input: CreateEntityRequest,
    idem?: Idempotency,
    audit?: AuditWith<CreateEntityResponse>,
  ): Promise<Idempotent<CreateEntityResponse>> {
    return entities.createEntity(this.#store, scope, input, idem, audit);
  }

  getEntity(scope: Scope, id: string): Promise<Versioned<Entity> | null> {
    return entities.getEntity(this.#store, scope, id);
  }

  listEntities(
    scope: Scope,
    query: PageRequest & { parentId?: string | undefined; search?: string | undefined },
  ): Promise<Page<Entity>> {
    return entities.listEntities(this.#store, scope, query);
  }

  updateEntity(
    scope: Scope,
    id: string,
    patch: UpdateEntityRequest,
    ifMatch?: IfMatch,
    audit?: AuditWith<{ entity: Versioned<Entity>; tierChanged: boolean }>,
  ): Promise<{ entity: Versioned<Entity>; tierChanged: boolean }> {
    return entities.updateEntity(this.#store, scope, id, patch, ifMatch, audit);
  }

  deleteEntity(
    scope: Scope,
    id: string,
    audit?: AuditWith<{ tokens: number }>,
  ): Promise<{ tokens: number }> {
    return entities.deleteEntity(this.#store, scope, id, audit);
  }

  // ------------------------------------------------------------------ tokens

  listTokens(scope: Scope, entityId: string, query: PageRequest): Promise<Page<Token>> {
    return tokens.listTokens(this.#store, scope, entityId, query);
  }

  createToken(
    scope: Scope,
    entityId: string,
    input: CreateTokenRequest,
    idem?: Idempotency,
    audit?: AuditWith<TokenWithValue>,
  ): Promise<Idempotent<TokenWithValue>> {
    return tokens.createToken(this.#store, scope, entityId, input, idem, audit);
  }

  getToken(scope: Scope, id: string): Promise<Versioned<Token> | null> {
    return tokens.getToken(this.#store, scope, id);
  }

  updateToken(
    scope: Scope,
    id: string,
    patch: UpdateTokenRequest,
    ifMatch?: IfMatch,
    audit?: AuditWith<TokenUpdate>,
  ): Promise<TokenUpdate> {
    return tokens.updateToken(this.#store, scope, id, patch, ifMatch, audit);
  }

  deleteToken(
    scope: Scope,
    id: string,
    audit?: AuditWith<{ entityId: string }>,
  ): Promise<{ entityId: string }> {
    return tokens.deleteToken(this.#store, scope, id, audit);
  }

  revealToken(scope: Scope, id: string): Promise<{ value: string; entityId: string }> {
    return tokens.revealToken(this.#store, scope, id);
  }

  rotateToken(
    scope: Scope,
    id: string,
    gracePeriodSeconds: number,
    idem?: Idempotency,
    audit?: AuditWith<TokenWithValue>,
  ): Promise<Idempotent<TokenWithValue>> {
    return tokens.rotateToken(this.#store, scope, id, gracePeriodSeconds, idem, audit);
  }

  findTokenByDigest(digest: string): Promise<TokenRecord | null> {
    return tokens.findTokenByDigest(this.#store, digest);
  }

  findTokenById(id: string): Promise<{ record: TokenRecord; value: string } | null> {
    return tokens.findTokenById(this.#store, id);
  }

  recordLastUsed(entries: ReadonlyMap<string, string>): Promise<void> {
    return tokens.recordLastUsed(this.#store, entries);
  }

  // ------------------------------------------------------- usage, signatures

  leaseUsage(tokenId: string, period: string, want: number, used: number): Promise<Lease> {
    return leaseUsage(this.#store, tokenId, period, want, used);
  }

  returnUsage(tokenId: string, period: string, unused: number, used: number): Promise<void> {
    return returnUsage(this.#store, tokenId, period, unused, used);
  }

  rememberSignature(digest: string, expiresAt: string): Promise<boolean> {
    return signatures.rememberSignature(this.#store, digest, expiresAt);
  }

  purgeSignatures(): Promise<number> {
    return signatures.purgeSignatures(this.#store);
  }

  // ------------------------------------------------------------- access keys

  createAccessKey(
    scope: Scope,
    entityId: string,
    input: CreateAccessKeyRequest,
    idem?: Idempotency,
    audit?: AuditWith<AccessKeyWithKey>,
  ): Promise<Idempotent<AccessKeyWithKey>> {
    return accessKeys.createAccessKey(this.#store, scope, entityId, input, idem, audit);
  }

  listAccessKeys(scope: Scope, entityId: string): Promise<AccessKey[]> {
    return accessKeys.listAccessKeys(this.#store, scope, entityId);
  }

  deleteAccessKey(
    scope: Scope,
    id: string,
    audit?: AuditWith<{ entityId: string }>,
  ): Promise<{ entityId: string }> {
    return accessKeys.deleteAccessKey(this.#store, scope, id, audit);
  }

  findAccessKeyByDigest(digest: string): Promise<AccessKeyRecord | null> {
    return accessKeys.findAccessKeyByDigest(this.#store, digest);
  }

  // ------------------------------------------------------------------- audit

  recordAudit(event: NewAuditEvent): Promise<void> {
    return auditEvents.recordAudit(this.#store, event);
  }

  listAudit(
    scope: Scope,
    query: PageRequest & { entityId?: string | undefined },
  ): Promise<Page<AuditEvent>> {
    return auditEvents.listAudit(this.#store, scope, query);
  }

  // ---------------------------------------------------------------- webhooks

  createWebhook(
    scope: Scope,
    entityId: string,
    input: CreateWebhookRequest,
    idem?: Idempotency,
    audit?: AuditWith<WebhookWithSecret>,
  ): Promise<Idempotent<WebhookWithSecret>> {
    return webhooks.createWebhook(this.#store, scope, entityId, input, idem, audit);
  }

  listWebhooks(scope: Scope, entityId: string): Promise<Webhook[]> {
    return webhooks.listWebhooks(this.#store, scope, entityId);
  }

  deleteWebhook(
    scope: Scope,
    id: string,
    audit?: AuditWith<{ entityId: string }>,
  ): Promise<{ entityId: string }> {
    return webhooks.deleteWebhook(this.#store, scope, id, audit);
  }

  listDeliveries(
    scope: Scope,
    webhookId: string,
    query: PageRequest,
  ): Promise<Page<WebhookDelivery>> {
    return webhooks.listDeliveries(this.#store, scope, webhookId, query);
  }

  claimDeliveries(limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    return webhooks.claimDeliveries(this.#store, limit, leaseMs);
  }

  recordAttempt(
    delivery: Pick<ClaimedDelivery, 'id' | 'lease'>,
    outcome: AttemptOutcome,
  ): Promise<boolean> {
    return webhooks.recordAttempt(this.#store, delivery, outcome);
  }

  /** Disables (or ends the grace of) every reported value that is a token's (storage/leaks.ts). */
  reportLeaks(
    report: TokenLeakReport,
    audit: LeakAudit,
  ): Promise<{ labels: TokenLeakLabels; exposed: string[] }> {
    return reportLeaks(this.#store, report, audit);
  }

  /** Writes the token.expiring/expired/usage_low notices due now (storage/notices.ts). */
  scanNotices(): Promise<number> {
    return scanNotices(this.#store);
  }

  purgeDeliveries(maxAgeMs: number): Promise<number> {
    return webhooks.purgeDeliveries(this.#store, maxAgeMs);
  }

  // ------------------------------------------------------------- idempotency

  /** Forget idempotency records older than `maxAgeMs` (kept at least 24 h by the caller's choice). */
  purgeIdempotency(maxAgeMs: number): Promise<number> {
    return purgeIdempotency(this.#store, maxAgeMs);
  }
}

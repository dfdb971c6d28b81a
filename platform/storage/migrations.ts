/**
 * Versioned schema migrations, applied in order at start inside one write
 * transaction each (PostgreSQL additionally takes an advisory lock so that
 * several replicas starting at once apply each migration exactly once).
 *
 * Timestamps are RFC 3339 UTC text (`toISOString()`), which sorts correctly as
 * text and reads the same in both engines. Ids are UUIDv7, so `ORDER BY id` is
 * creation order and serves as the pagination key.
 */
import type { SqlDriver } from './sql.ts';

export type Migration = {
  version: number;
  name: string;
  /** Statements separated by `;` and a newline; a function where the engines differ. */
  sql: string | ((dialect: SqlDriver['dialect']) => string);
};

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'entities, tokens, access keys, audit events, idempotency keys',
    sql: `
CREATE TABLE entities (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  parent_id TEXT REFERENCES entities(id),
  tier TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX entities_parent ON entities(parent_id, id);
CREATE TABLE tokens (
  id TEXT PRIMARY KEY,
  entity_id TEXT NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  expires_at TEXT,
  hint TEXT NOT NULL,
  digest TEXT NOT NULL UNIQUE,
  sealed_value TEXT NOT NULL,
  previous_digest TEXT UNIQUE,
  previous_expires_at TEXT,
  last_used_at TEXT,
  version INTEGER NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX tokens_entity ON tokens(entity_id, id);
CREATE TABLE access_keys (
  id TEXT PRIMARY KEY,
  entity_id TEXT NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  digest TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL
);
CREATE INDEX access_keys_entity ON access_keys(entity_id, id);
CREATE TABLE audit_events (
  id TEXT PRIMARY KEY,
  at TEXT NOT NULL,
  actor_type TEXT NOT NULL,
  actor_id TEXT,
  action TEXT NOT NULL,
  target_type TEXT NOT NULL,
  target_id TEXT,
  entity_id TEXT,
  outcome TEXT NOT NULL,
  request_id TEXT NOT NULL,
  detail TEXT
);
CREATE INDEX audit_events_entity ON audit_events(entity_id, id);
CREATE TABLE idempotency_keys (
  scope TEXT NOT NULL,
  key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  sealed_response TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at)
`,
  },
  {
    version: 2,
    name: 'settings (encryption key check)',
    sql: `
CREATE TABLE settings (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
)
`,
  },
  {
    version: 3,
    name: 'token permissions and limits (README: Token permissions and limits), usage counters, request signatures',
    // Existing tokens keep working: every new column defaults to the permission default
    // for a secret token (read everything the tier includes, from anywhere,
    // unlimited, bearer). JSON lists are kept as text, the same in both engines.
    sql: `
ALTER TABLE tokens ADD COLUMN type TEXT NOT NULL DEFAULT 'secret';
ALTER TABLE tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT '["metrics:read"]';
ALTER TABLE tokens ADD COLUMN allowed_origins TEXT NOT NULL DEFAULT '[]';
ALTER TABLE tokens ADD COLUMN allowed_ips TEXT NOT NULL DEFAULT '[]';
ALTER TABLE tokens ADD COLUMN rate_limit TEXT;
ALTER TABLE tokens ADD COLUMN usage_limit BIGINT;
ALTER TABLE tokens ADD COLUMN usage_period TEXT;
ALTER TABLE tokens ADD COLUMN require_signed INTEGER NOT NULL DEFAULT 0;
CREATE TABLE usage_counters (
  token_id TEXT NOT NULL REFERENCES tokens(id) ON DELETE CASCADE,
  period TEXT NOT NULL,
  granted BIGINT NOT NULL DEFAULT 0,
  used BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (token_id, period)
);
CREATE TABLE request_signatures (
  digest TEXT PRIMARY KEY,
  expires_at TEXT NOT NULL
);
CREATE INDEX request_signatures_expiry ON request_signatures(expires_at)
`,
  },
  {
    version: 4,
    name: 'webhooks, their outbox of events and deliveries, token notices',
    sql: `
CREATE TABLE webhooks (
  id TEXT PRIMARY KEY,
  entity_id TEXT NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
  url TEXT NOT NULL,
  events TEXT NOT NULL,
  sealed_secret TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX webhooks_entity ON webhooks(entity_id, id);
CREATE TABLE webhook_events (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE webhook_deliveries (
  id TEXT PRIMARY KEY,
  webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
  event_id TEXT NOT NULL REFERENCES webhook_events(id) ON DELETE CASCADE,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT,
  lease_owner TEXT,
  lease_until TEXT,
  response_status INTEGER,
  last_error TEXT,
  last_attempt_at TEXT,
  delivered_at TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries(webhook_id, id);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries(event_id);
CREATE TABLE token_notices (
  token_id TEXT NOT NULL REFERENCES tokens(id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  ref TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (token_id, kind, ref)
);
CREATE INDEX tokens_expires ON tokens(expires_at)
`,
  },
  {
    version: 5,
    name: 'exposed values stay off; signatures with the replaced value in its grace',
    sql: `
ALTER TABLE tokens ADD COLUMN exposed_digest TEXT;
ALTER TABLE tokens ADD COLUMN previous_sealed_value TEXT
`,
  },
  {
    version: 6,
    name: 'every replaced value keeps its own grace',
    // tokens' single previous_* slot moves here and is emptied. The columns stay,
    // unread: SQLite drops a UNIQUE column only by rebuilding the table, and a
    // server of the version before, still running in a rolling upgrade, names them.
    // sealed_value is NULL for a value replaced before version 5, which kept no
    // copy: it verifies as a bearer token, not as a signing key.
    sql: `
CREATE TABLE replaced_values (
  digest TEXT PRIMARY KEY,
  token_id TEXT NOT NULL REFERENCES tokens(id) ON DELETE CASCADE,
  sealed_value TEXT,
  grace_ends_at TEXT NOT NULL
);
CREATE INDEX replaced_values_token ON replaced_values(token_id, grace_ends_at);
CREATE INDEX replaced_values_grace ON replaced_values(grace_ends_at);
INSERT INTO replaced_values (digest, token_id, sealed_value, grace_ends_at)
  SELECT previous_digest, id, previous_sealed_value, previous_expires_at FROM tokens
   WHERE previous_digest IS NOT NULL AND previous_expires_at IS NOT NULL;
UPDATE tokens SET previous_digest = NULL, previous_expires_at = NULL, previous_sealed_value = NULL
`,
  },
  {
    version: 7,
    name: 'members (README: Members and single sign-on) and their personal access keys',
    // A personal access key names its member: it goes with the membership
    // (ON DELETE CASCADE) and is refused while the member's role is below its own.
    sql: `
CREATE TABLE members (
  id TEXT PRIMARY KEY,
  entity_id TEXT NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
  email TEXT NOT NULL,
  role TEXT NOT NULL,
  created_at TEXT NOT NULL,
  UNIQUE (entity_id, email)
);
CREATE INDEX members_entity ON members(entity_id, id);
CREATE INDEX members_email ON members(email);
ALTER TABLE access_keys ADD COLUMN member_id TEXT REFERENCES members(id) ON DELETE CASCADE
`,
  },
  {
    version: 8,
    name: 'audit events name the member whose personal access key acted',
    sql: `
ALTER TABLE audit_events ADD COLUMN actor_email TEXT
`,
  },
  {
    version: 9,
    name: 'accepted signatures kept in the order their windows close',
    // One insert per signed request (platform/storage/signatures.ts): keyed by
    // digest alone, each lands on a random page of a large index; keyed by
    // (expiry, digest), where the expiry follows from the signature's own
    // `created`, the inserts of one second share a page, and SQLite keeps the
    // rows in that index itself (WITHOUT ROWID).
    //
    // The rename comes first so that PostgreSQL locks the old table before
    // copying it: a server of the version before, still running in a rolling
    // upgrade, cannot add a row the copy would miss, and afterwards its insert
    // fails (its ON CONFLICT names digest alone), so it refuses signed
    // requests rather than accept a replay. A copied row keeps the expiry the
    // version before stored (from the later of `created` and when it was
    // accepted); for the ledger to refuse the replays those keys would not
    // catch, request_signatures_copied holds the latest of them (NULL: none).
    sql: (dialect) => `
ALTER TABLE request_signatures RENAME TO request_signatures_before;
CREATE TABLE request_signatures (
  expires_at TEXT NOT NULL,
  digest TEXT NOT NULL,
  CONSTRAINT request_signatures_by_expiry PRIMARY KEY (expires_at, digest)
)${dialect === 'sqlite' ? ' WITHOUT ROWID' : ''};
INSERT INTO request_signatures (expires_at, digest)
  SELECT expires_at, digest FROM request_signatures_before;
CREATE TABLE request_signatures_copied (latest_expiry TEXT);
INSERT INTO request_signatures_copied (latest_expiry)
  SELECT MAX(expires_at) FROM request_signatures_before;
DROP TABLE request_signatures_before
`,
  },
];

/** Applies the migrations not applied yet (`migrations`: a prefix of MIGRATIONS in tests of upgrades). */
export async function migrate(
  db: SqlDriver,
  now: () => number = Date.now,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  await db.transaction(async (tx) => {
    await tx.run(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
    );
  });
  const applied: number[] = [];
  for (const migration of migrations) {
    const done = await db.transaction(async (tx) => {
      if (db.dialect === 'postgres') await tx.query('SELECT pg_advisory_xact_lock(7346001)');
      const rows = await tx.query('SELECT version FROM schema_migrations WHERE version = $1', [
        migration.version,
      ]);
      if (rows.length > 0) return false;
      const sql = typeof migration.sql === 'string' ? migration.sql : migration.sql(db.dialect);
      for (const statement of sql.split(/;\s*\n/)) {
        if (statement.trim()) await tx.run(statement);
      }
      await tx.run(
        'INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)',
        [migration.version, migration.name, new Date(now()).toISOString()],
      );
      return true;
    });
    if (done) applied.push(migration.version);
  }
  return applied;
}

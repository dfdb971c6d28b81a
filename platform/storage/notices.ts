/**
 * Time-driven lifecycle events (README "Lifecycle events, leak response, revocation across servers"): `token.expiring` 7 days and 1 day
 * before `expiresAt`, `token.expired`, and `token.usage_low` at 80 % of a usage
 * limit's period. Each notice is recorded in `token_notices` under a key that
 * names what it was about (the expiry it announced, the usage period), so it
 * is sent once — a changed expiry or a new period earns a new one.
 *
 * A scan runs in one write transaction. On PostgreSQL it first takes a
 * transaction-scoped advisory lock and skips the round when another server
 * holds it, so the scan runs on one server at a time; the notice keys keep it
 * exactly-once even if two scans ever overlapped.
 */
import { usageWindow } from '../../core/domain/permissions.ts';
import type { Token } from '../../core/schemas/index.ts';
import { TOKEN_COLUMNS, tokenFromRow } from './rows.ts';
import type { SqlTx } from './sql.ts';
import type { Store } from './store.ts';
import { withUsage } from './usage.ts';
import { emitEvent } from './webhooks.ts';

const DAY_MS = 86_400_000;
/** Tokens that expired longer ago than this get no `token.expired` (no flood after an upgrade). */
const EXPIRED_LOOKBACK_MS = 7 * DAY_MS;
/** README "Lifecycle events, leak response, revocation across servers": usage_low at 80 % of the limit. */
export const USAGE_LOW_SHARE = 0.8;
const SCAN_LOCK = 7346002;
const BATCH = 500;

type Window = { kind: 'expiring-7d' | 'expiring-1d' | 'expired'; after: number; upTo: number };

/** Sends every notice due at the store's clock; resolves to how many were written. */
export async function scanNotices(store: Store): Promise<number> {
  return store.db.transaction(async (tx) => {
    if (store.db.dialect === 'postgres') {
      const [lock] = await tx.query('SELECT pg_try_advisory_xact_lock($1) AS ok', [SCAN_LOCK]);
      if (!lock?.ok) return 0;
    }
    const now = store.clock();
    const windows: Window[] = [
      { kind: 'expiring-7d', after: now + DAY_MS, upTo: now + 7 * DAY_MS },
      { kind: 'expiring-1d', after: now, upTo: now + DAY_MS },
      { kind: 'expired', after: now - EXPIRED_LOOKBACK_MS, upTo: now },
    ];
    let sent = 0;
    for (const window of windows) sent += await expiryNotices(store, tx, window);
    return sent + (await usageNotices(store, tx, now));
  });
}

async function expiryNotices(store: Store, tx: SqlTx, w: Window): Promise<number> {
  const rows = await tx.query(
    `SELECT ${TOKEN_COLUMNS} FROM tokens t
      WHERE t.status = 'active' AND t.expires_at > $1 AND t.expires_at <= $2
        AND NOT EXISTS (SELECT 1 FROM token_notices n
                         WHERE n.token_id = t.id AND n.kind = $3 AND n.ref = t.expires_at)
      ORDER BY t.expires_at LIMIT $4`,
    [new Date(w.after).toISOString(), new Date(w.upTo).toISOString(), w.kind, BATCH],
  );
  let sent = 0;
  for (const row of rows) {
    const token = tokenFromRow(row).value;
    if (!(await claimNotice(store, tx, token.id, w.kind, String(token.expiresAt)))) continue;
    const data = { entityId: token.entityId, token };
    if (w.kind === 'expired') await emitEvent(store, tx, 'token.expired', data);
    else {
      const notice = w.kind === 'expiring-7d' ? '7d' : '1d';
      await emitEvent(store, tx, 'token.expiring', { ...data, notice });
    }
    sent++;
  }
  return sent;
}

async function usageNotices(store: Store, tx: SqlTx, now: number): Promise<number> {
  const rows = await tx.query(
    `SELECT ${TOKEN_COLUMNS} FROM tokens t
      WHERE t.status = 'active' AND t.usage_limit IS NOT NULL
        AND EXISTS (SELECT 1 FROM usage_counters c WHERE c.token_id = t.id
                     AND c.used >= t.usage_limit * ${USAGE_LOW_SHARE})`,
  );
  const tokens = await withUsage(
    store,
    tx,
    rows.map((r) => tokenFromRow(r).value),
  );
  let sent = 0;
  for (const token of tokens) {
    const period = lowPeriod(token, now);
    if (period === null || !(await claimNotice(store, tx, token.id, 'usage-low', period))) continue;
    // the token's `usage` member carries the consumption that crossed the line
    await emitEvent(store, tx, 'token.usage_low', { entityId: token.entityId, token });
    sent++;
  }
  return sent;
}

/** The token's current usage period when 80 % of it is used; null otherwise. */
function lowPeriod(token: Token, now: number): string | null {
  const { usage, usageLimit } = token;
  if (!usage || !usageLimit || usage.used < usage.limit * USAGE_LOW_SHARE) return null;
  return usageWindow(usageLimit.period, now).key;
}

/** Records that a notice was sent; false when it already was. */
async function claimNotice(
  store: Store,
  tx: SqlTx,
  tokenId: string,
  kind: string,
  ref: string,
): Promise<boolean> {
  const n = await tx.run(
    `INSERT INTO token_notices (token_id, kind, ref, created_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (token_id, kind, ref) DO NOTHING`,
    [tokenId, kind, ref, new Date(store.clock()).toISOString()],
  );
  return n > 0;
}

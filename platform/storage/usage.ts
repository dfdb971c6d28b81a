/**
 * Usage counters of README "Token permissions and limits" usage limits, one row per token and period
 * (`day:2026-12-01`, `month:2026-12`, `total`):
 *
 * - `granted`: units handed out to servers (served, or leased and not yet used
 *   or given back). It never exceeds the token's limit, so no combination of
 *   servers can serve more than the limit — a server that dies holding a lease
 *   simply never gives its units back (they count as spent).
 * - `used`: units reported as served; written in batches with the next lease,
 *   give-back or flush, never once per request.
 *
 * A lease is one short write transaction that locks the counter row; the
 * limit is read from the token row inside it, so a server whose cache still
 * holds an older limit cannot lease past the current one.
 */
import { usageWindow } from '../../core/domain/permissions.ts';
import type { Token } from '../../core/schemas/index.ts';
import type { Versioned } from './rows.ts';
import type { SqlTx } from './sql.ts';
import type { Store } from './store.ts';

export type Lease = {
  /** Units granted now (0 when the period's limit is used up). */
  units: number;
  /** Units still grantable after this lease; null when the token has no usage limit now. */
  remaining: number | null;
};

/** Grants up to `want` units of the period and records `used` units served since the last call. */
export async function leaseUsage(
  store: Store,
  tokenId: string,
  period: string,
  want: number,
  used: number,
): Promise<Lease> {
  return store.db.transaction(async (tx) => {
    const [token] = await tx.query('SELECT usage_limit FROM tokens WHERE id = $1', [tokenId]);
    if (!token) return { units: 0, remaining: 0 };
    if (token.usage_limit == null) return { units: want, remaining: null };
    const limit = Number(token.usage_limit);
    await tx.run(
      `INSERT INTO usage_counters (token_id, period, granted, used) VALUES ($1, $2, 0, 0)
       ON CONFLICT (token_id, period) DO NOTHING`,
      [tokenId, period],
    );
    const [row] = await tx.query(
      `SELECT granted FROM usage_counters WHERE token_id = $1 AND period = $2 ${store.db.forUpdate}`,
      [tokenId, period],
    );
    const granted = Number(row?.granted ?? 0);
    const units = Math.max(0, Math.min(want, limit - granted));
    await tx.run(
      'UPDATE usage_counters SET granted = granted + $3, used = used + $4 WHERE token_id = $1 AND period = $2',
      [tokenId, period, units, used],
    );
    return { units, remaining: Math.max(0, limit - granted - units) };
  });
}

/** Gives back `unused` leased units and records `used` units served. */
export async function returnUsage(
  store: Store,
  tokenId: string,
  period: string,
  unused: number,
  used: number,
): Promise<void> {
  if (unused === 0 && used === 0) return;
  await store.db.transaction((tx) =>
    tx.run(
      `UPDATE usage_counters SET granted = granted - $3, used = used + $4
        WHERE token_id = $1 AND period = $2`,
      [tokenId, period, unused, used],
    ),
  );
}

/** Fills `usage` of tokens that have a usage limit from their current period's counter. */
export async function withUsage<T extends Token>(
  store: Store,
  q: Pick<SqlTx, 'query'>,
  tokens: T[],
): Promise<T[]> {
  const limited = tokens.filter((t) => t.usageLimit !== null);
  if (limited.length === 0) return tokens;
  const now = store.clock();
  const windows = new Map(
    limited.map((t) => [t.id, usageWindow(t.usageLimit?.period ?? 'total', now)]),
  );
  const placeholders = limited.map((_, i) => `$${i + 1}`).join(', ');
  const rows = await q.query(
    `SELECT token_id, period, used FROM usage_counters WHERE token_id IN (${placeholders})`,
    limited.map((t) => t.id),
  );
  const used = new Map<string, number>();
  for (const r of rows) {
    if (windows.get(String(r.token_id))?.key === r.period)
      used.set(String(r.token_id), Number(r.used));
  }
  return tokens.map((t) => ({ ...t, usage: usageOf(t.usageLimit, used.get(t.id) ?? 0, now) }));
}

/** The `usage` member of a Token: consumption of the period `nowMs` falls in. */
export function usageOf(limit: Token['usageLimit'], used: number, nowMs: number): Token['usage'] {
  if (!limit) return null;
  const { resetsAt } = usageWindow(limit.period, nowMs);
  return { used, limit: limit.limit, period: limit.period, resetsAt };
}

/** `withUsage` for one versioned token. */
export async function withUsageOne(
  store: Store,
  q: Pick<SqlTx, 'query'>,
  token: Versioned<Token>,
): Promise<Versioned<Token>> {
  const [value] = await withUsage(store, q, [token.value]);
  return { ...token, value: value ?? token.value };
}

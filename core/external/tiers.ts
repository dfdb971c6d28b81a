/**
 * The platform's own tier table (GET /v1/tiers), which the planners judge with:
 * a deployment may configure its own (TOKENPLANE_TIERS), so the built-in table
 * would judge wrongly. One read shared by concurrent callers, kept for
 * `maxAgeMs`, read again after a failure.
 */
import type { TokenplaneClient } from '../client/index.ts';
import { TierTable } from '../domain/tiers.ts';

export function platformTiers(
  client: TokenplaneClient,
  maxAgeMs = Number.POSITIVE_INFINITY,
  now: () => number = Date.now,
): () => Promise<TierTable> {
  let cached: { table: Promise<TierTable>; at: number } | undefined;
  return () => {
    if (!cached || now() - cached.at > maxAgeMs) {
      const table = client.listTiers().then((items) => new TierTable(items));
      const entry = { table, at: now() };
      cached = entry;
      table.catch(() => {
        if (cached === entry) cached = undefined;
      });
    }
    return cached.table;
  };
}

/**
 * Cross-server cache invalidation (README "Lifecycle events, leak response, revocation across servers"): a change that can stop a token
 * from verifying is announced on a PostgreSQL channel inside its own
 * transaction. PostgreSQL delivers a NOTIFY only when that transaction commits,
 * to every server LISTENing on the database (storage/listener.ts), which then
 * drops its cached verification at once. SQLite has no such channel: servers
 * sharing a SQLite file see changes within the verification cache's lifetime.
 */
import type { SqlTx } from './sql.ts';
import type { Store } from './store.ts';

export const REVOCATION_CHANNEL = 'tokenplane_revocations';

/** What changed: one token, or every token of an entity (tier change, deletion). */
export type RevocationTarget = { tokenId: string } | { entityId: string };

export async function announceRevocation(
  store: Store,
  tx: SqlTx,
  target: RevocationTarget,
): Promise<void> {
  if (store.db.dialect !== 'postgres') return;
  await tx.query('SELECT pg_notify($1, $2)', [REVOCATION_CHANNEL, encodeTarget(target)]);
}

export function encodeTarget(target: RevocationTarget): string {
  return 'tokenId' in target ? `token:${target.tokenId}` : `entity:${target.entityId}`;
}

/** The target of a notification payload; null for anything this version did not send. */
export function decodeTarget(payload: string): RevocationTarget | null {
  const [kind, id] = payload.split(':', 2);
  if (!id) return null;
  if (kind === 'token') return { tokenId: id };
  if (kind === 'entity') return { entityId: id };
  return null;
}

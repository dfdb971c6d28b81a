/**
 * Visibility: every repository method takes a `scope` — null for the
 * administrator, or the id of the entity an access key belongs to. Objects
 * outside that entity's subtree do not exist for the caller (not-found).
 */
import type { SqlTx } from './sql.ts';

/** null = administrator (everything); otherwise the root entity of an access key. */
export type Scope = string | null;

/** Ancestors of $1 (itself included): is $2 among them? */
const IN_SUBTREE = `WITH RECURSIVE up(id, parent_id) AS (
  SELECT id, parent_id FROM entities WHERE id = $1
  UNION ALL SELECT e.id, e.parent_id FROM entities e JOIN up ON e.id = up.parent_id
) SELECT 1 AS ok FROM up WHERE id = $2`;

/** Descendants of $1, itself included. */
export const SUBTREE = `WITH RECURSIVE down(id) AS (
  SELECT id FROM entities WHERE id = $1
  UNION ALL SELECT e.id FROM entities e JOIN down d ON e.parent_id = d.id
)`;

/** Does the entity exist and lie inside the caller's subtree? */
export async function visible(q: SqlTx, scope: Scope, entityId: string): Promise<boolean> {
  if (scope === null) {
    const rows = await q.query('SELECT 1 AS ok FROM entities WHERE id = $1', [entityId]);
    return rows.length > 0;
  }
  const rows = await q.query(IN_SUBTREE, [entityId, scope]);
  return rows.length > 0;
}

/** An object a caller names by id: an entity, a token, an access key, a webhook or a member. */
export type Target =
  | { entity: string }
  | { token: string }
  | { accessKey: string }
  | { webhook: string }
  | { member: string };

/** The entity a target belongs to (an entity belongs to itself); null when it does not exist. */
const OWNER: Record<'token' | 'accessKey' | 'webhook' | 'member', string> = {
  token: 'SELECT entity_id FROM tokens WHERE id = $1',
  member: 'SELECT entity_id FROM members WHERE id = $1',
  accessKey: 'SELECT entity_id FROM access_keys WHERE id = $1',
  webhook: 'SELECT entity_id FROM webhooks WHERE id = $1',
};

/** Does the target exist inside the caller's subtree? */
export async function targetVisible(q: SqlTx, scope: Scope, target: Target): Promise<boolean> {
  if ('entity' in target) return visible(q, scope, target.entity);
  const [kind, id] = Object.entries(target)[0] as [keyof typeof OWNER, string];
  const rows = await q.query(OWNER[kind], [id]);
  return rows[0] ? visible(q, scope, String(rows[0].entity_id)) : false;
}

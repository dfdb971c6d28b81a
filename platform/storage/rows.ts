/**
 * Rows to API objects: the column lists the queries select and the mappers
 * that turn those rows into Entity, Token, AccessKey and AuditEvent.
 */
import type { TierTable } from '../domain/tiers.ts';
import type { AccessKey, AuditEvent, Entity, Token } from '../schemas/index.ts';
import type { Row } from './sql.ts';

/** An object with the version its ETag is made of. */
export type Versioned<T> = { value: T; version: number };

export const ENTITY_COLUMNS = `e.id, e.name, e.kind, e.parent_id, e.tier, e.version, e.created_at, e.updated_at,
  (SELECT COUNT(*) FROM tokens c WHERE c.entity_id = e.id) AS token_count`;
export const TOKEN_COLUMNS =
  't.id, t.entity_id, t.name, t.status, t.expires_at, t.hint, t.last_used_at, t.version, t.created_at, t.updated_at';

/** An entity row (selected with ENTITY_COLUMNS); its quota comes from the tier table. */
export function entityFromRow(tiers: TierTable, r: Row): Versioned<Entity> {
  const tier = String(r.tier);
  return {
    version: Number(r.version),
    value: {
      id: String(r.id),
      name: String(r.name),
      kind: r.kind as Entity['kind'],
      parentId: (r.parent_id as string | null) ?? null,
      tier,
      tokenQuota: tiers.find(tier)?.tokenQuota ?? 0,
      tokenCount: Number(r.token_count ?? 0),
      createdAt: String(r.created_at),
      updatedAt: String(r.updated_at),
    },
  };
}

/** A token row (selected with TOKEN_COLUMNS). */
export function tokenFromRow(r: Row): Versioned<Token> {
  return {
    version: Number(r.version),
    value: {
      id: String(r.id),
      entityId: String(r.entity_id),
      name: String(r.name),
      status: r.status as Token['status'],
      expiresAt: (r.expires_at as string | null) ?? null,
      createdAt: String(r.created_at),
      updatedAt: String(r.updated_at),
      lastUsedAt: (r.last_used_at as string | null) ?? null,
      hint: String(r.hint),
    },
  };
}

export function accessKeyFromRow(r: Row): AccessKey {
  return {
    id: String(r.id),
    entityId: String(r.entity_id),
    name: String(r.name),
    role: r.role as AccessKey['role'],
    createdAt: String(r.created_at),
  };
}

export function auditFromRow(r: Row): AuditEvent {
  return {
    id: String(r.id),
    at: String(r.at),
    actor: {
      type: r.actor_type as AuditEvent['actor']['type'],
      id: (r.actor_id as string | null) ?? null,
    },
    action: String(r.action),
    targetType: r.target_type as AuditEvent['targetType'],
    targetId: (r.target_id as string | null) ?? null,
    entityId: (r.entity_id as string | null) ?? null,
    outcome: r.outcome as AuditEvent['outcome'],
    requestId: String(r.request_id),
    detail: (r.detail as string | null) ?? null,
  };
}

/** Stored times are always UTC ISO-8601, whatever offset the client wrote. */
export function normaliseTime(value: string | null): string | null {
  return value === null ? null : new Date(value).toISOString();
}

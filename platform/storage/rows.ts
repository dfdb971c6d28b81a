/**
 * Rows to API objects: the column lists the queries select and the mappers
 * that turn those rows into Entity, Token, AccessKey and AuditEvent.
 */
import type { UsagePeriod } from '../../core/domain/permissions.ts';
import type { TierTable } from '../../core/domain/tiers.ts';
import type {
  AccessKey,
  AuditEvent,
  Entity,
  Token,
  TokenPermissions,
} from '../../core/schemas/index.ts';
import type { Row } from './sql.ts';

/** An object with its strong ETag (RFC 9110): it changes whenever the object's state does. */
export type Versioned<T> = { value: T; etag: string };

/** A strong entity tag made of the id's tail and the parts that change with the object. */
function etagOf(id: string, ...parts: number[]): string {
  return `"${id.slice(-12)}.${parts.join('.')}"`;
}

/** The permission columns, selected with TOKEN_COLUMNS and by the verifier. */
export const PERMISSION_COLUMNS =
  't.type, t.scopes, t.allowed_origins, t.allowed_ips, t.rate_limit, t.usage_limit, t.usage_period, t.require_signed';

export const ENTITY_COLUMNS = `e.id, e.name, e.kind, e.parent_id, e.tier, e.version, e.created_at, e.updated_at,
  (SELECT COUNT(*) FROM tokens c WHERE c.entity_id = e.id) AS token_count`;
export const TOKEN_COLUMNS = `t.id, t.entity_id, t.name, t.status, t.expires_at, t.hint, t.last_used_at, t.version,
  t.created_at, t.updated_at, ${PERMISSION_COLUMNS}`;

/** The stored permission fields of a token (usage is read separately: it changes per period). */
export type StoredPermissions = Omit<TokenPermissions, 'usage'>;

export function permissionsFromRow(r: Row): StoredPermissions {
  return {
    type: r.type as StoredPermissions['type'],
    scopes: JSON.parse(String(r.scopes)) as string[],
    allowedOrigins: JSON.parse(String(r.allowed_origins)) as string[],
    allowedIps: JSON.parse(String(r.allowed_ips)) as string[],
    rateLimit:
      r.rate_limit == null
        ? null
        : (JSON.parse(String(r.rate_limit)) as StoredPermissions['rateLimit']),
    usageLimit:
      r.usage_limit == null
        ? null
        : { limit: Number(r.usage_limit), period: r.usage_period as UsagePeriod },
    requireSignedRequests: Number(r.require_signed) === 1,
  };
}

/** The permission fields as the column values of PERMISSION_COLUMNS' order (type excluded: fixed). */
export function permissionParams(p: Omit<StoredPermissions, 'type'>): unknown[] {
  return [
    JSON.stringify(p.scopes),
    JSON.stringify(p.allowedOrigins),
    JSON.stringify(p.allowedIps),
    p.rateLimit === null ? null : JSON.stringify(p.rateLimit),
    p.usageLimit?.limit ?? null,
    p.usageLimit?.period ?? null,
    p.requireSignedRequests ? 1 : 0,
  ];
}

/** An entity row (selected with ENTITY_COLUMNS); its quota comes from the tier table. */
export function entityFromRow(tiers: TierTable, r: Row): Versioned<Entity> {
  const tier = String(r.tier);
  const tokenCount = Number(r.token_count ?? 0);
  return {
    // tokenCount is part of the representation but not of `version`.
    etag: etagOf(String(r.id), Number(r.version), tokenCount),
    value: {
      id: String(r.id),
      name: String(r.name),
      kind: r.kind as Entity['kind'],
      parentId: (r.parent_id as string | null) ?? null,
      tier,
      tokenQuota: tiers.find(tier)?.tokenQuota ?? 0,
      tokenCount,
      createdAt: String(r.created_at),
      updatedAt: String(r.updated_at),
    },
  };
}

/** A token row (selected with TOKEN_COLUMNS). */
export function tokenFromRow(r: Row): Versioned<Token> {
  return {
    etag: etagOf(String(r.id), Number(r.version)),
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
      ...permissionsFromRow(r),
      usage: null,
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
      ...(r.actor_email == null ? {} : { email: String(r.actor_email) }),
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

import { describe, expect, it } from 'vitest';
import {
  defaultRenewBefore,
  describeChanges,
  entityChanges,
  needsReplace,
  parseDuration,
  patchOf,
  renewalTime,
  tokenChanges,
} from '../../platform/external/index.ts';
import type { Entity, Token } from '../../platform/schemas/index.ts';

const now = '2026-01-01T00:00:00.000Z';
const entity: Entity = {
  id: '00000000-0000-4000-8000-000000000001',
  name: 'acme',
  kind: 'reseller',
  parentId: null,
  tier: 'lite',
  tokenQuota: 1,
  tokenCount: 1,
  createdAt: now,
  updatedAt: now,
};
const token: Token = {
  id: '00000000-0000-4000-8000-000000000002',
  entityId: entity.id,
  name: 'ci',
  status: 'active',
  expiresAt: '2027-01-01T00:00:00.000Z',
  createdAt: now,
  updatedAt: now,
  lastUsedAt: null,
  hint: 'tpt_…abcd',
  type: 'secret',
  scopes: ['metrics:read'],
  allowedOrigins: [],
  allowedIps: [],
  rateLimit: null,
  usageLimit: null,
  usage: null,
  requireSignedRequests: false,
};

describe('entity changes', () => {
  const desired = {
    name: 'acme',
    kind: 'reseller' as const,
    tier: 'lite',
    parentId: null,
    defaultToken: true,
  };

  it('is up to date when nothing differs', () => {
    expect(entityChanges(desired, entity)).toEqual([]);
  });

  it('updates name and tier in place, replaces on kind or parent', () => {
    const changes = entityChanges({ ...desired, name: 'acme2', tier: 'advanced' }, entity);
    expect(needsReplace(changes)).toBe(false);
    expect(patchOf(changes)).toEqual({ name: 'acme2', tier: 'advanced' });
    expect(needsReplace(entityChanges({ ...desired, kind: 'customer' }, entity))).toBe(true);
    expect(needsReplace(entityChanges({ ...desired, parentId: token.id }, entity))).toBe(true);
  });
});

describe('token changes', () => {
  const desired = { entityId: entity.id, name: 'ci', status: 'active' as const };

  it('ignores the expiry when it is left to the platform, compares instants otherwise', () => {
    expect(tokenChanges(desired, token)).toEqual([]);
    expect(tokenChanges({ ...desired, expiresAt: '2027-01-01T00:00:00Z' }, token)).toEqual([]);
    expect(patchOf(tokenChanges({ ...desired, expiresAt: null }, token))).toEqual({
      expiresAt: null,
    });
  });

  it('updates status in place and describes it', () => {
    const changes = tokenChanges({ ...desired, status: 'disabled' }, token);
    expect(describeChanges(changes)).toBe('status: "active" → "disabled"');
    expect(needsReplace(tokenChanges({ ...desired, entityId: token.id }, token))).toBe(true);
  });
});

describe('renewal', () => {
  it('parses Kubernetes-style durations and rejects junk with advice', () => {
    expect(parseDuration('720h')).toBe(720 * 3_600_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('30d')).toBe(30 * 86_400_000);
    expect(() => parseDuration('soon')).toThrow(/write it like 720h/);
    expect(() => parseDuration('10x')).toThrow();
  });

  it('computes the renewal time before expiry', () => {
    expect(renewalTime(null, 1000)).toBeNull();
    expect(renewalTime('2026-01-02T00:00:00Z', 3_600_000)?.toISOString()).toBe(
      '2026-01-01T23:00:00.000Z',
    );
    expect(defaultRenewBefore(90)).toBe(30);
  });
});

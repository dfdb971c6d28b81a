import { describe, expect, it } from 'vitest';
import { TierTable } from '../../core/domain/tiers.ts';
import {
  declaredPermissions,
  defaultRenewBefore,
  describeChanges,
  entityChanges,
  needsReplace,
  parseDuration,
  patchOf,
  planToken,
  renewalTime,
  scopeCeiling,
  tokenChanges,
} from '../../core/external/index.ts';
import type { Entity, Token } from '../../core/schemas/index.ts';
import { entityBody, tokenBody } from '../client/loopback.ts';

const entity = entityBody() as Entity;
const token = tokenBody({ expiresAt: '2027-01-01T00:00:00.000Z' }) as Token;

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

  it('permissions: declared permissions default like the platform; type replaces, the rest update; key order is no change', () => {
    const permissions = declaredPermissions({});
    expect(tokenChanges({ ...desired, permissions }, token)).toEqual([]);
    const limited = { ...token, rateLimit: { requests: 5, perSeconds: 60 } };
    const sorted = declaredPermissions({ rateLimit: { perSeconds: 60, requests: 5 } });
    expect(tokenChanges({ ...desired, permissions: sorted }, limited)).toEqual([]);
    const changes = tokenChanges(
      {
        ...desired,
        permissions: declaredPermissions({
          type: 'publishable',
          allowedOrigins: ['https://a.example.com'],
        }),
      },
      token,
    );
    expect(changes.map((c) => [c.field, c.action])).toEqual([
      ['type', 'replace'],
      ['scopes', 'update'],
      ['allowedOrigins', 'update'],
    ]);
    expect(
      patchOf(
        tokenChanges(
          { ...desired, permissions: declaredPermissions({ allowedIps: ['::1'] }) },
          token,
        ),
      ),
    ).toEqual({
      allowedIps: ['::1'],
    });
  });

  it('permissions: the planner refuses a scope above the entity’s tier before anything else', () => {
    const declaration = {
      desired: {
        ...desired,
        permissions: declaredPermissions({ scopes: ['metrics:premium:read'] }),
      },
    };
    const plan = planToken(
      declaration,
      { tier: { name: 'lite', table: new TierTable() } },
      { identity: 'x', issuance: 0, rotations: 0, now: new Date() },
    );
    expect(plan).toMatchObject({
      action: 'refuse',
      reason: 'ScopeAboveTier',
      retryable: true,
      field: 'scopes',
    });
    expect(
      scopeCeiling(declaration, { tier: { name: 'advanced', table: new TierTable() } }),
    ).toBeNull();
    expect(scopeCeiling(declaration, {})).toBeNull(); // tier unknown: the platform judges
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

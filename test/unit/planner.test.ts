// Every row of the planners' decision tables (core/external/plan-*.ts), the
// table both the operator and the Pulumi provider follow.
import { describe, expect, it } from 'vitest';
import {
  type DesiredEntity,
  type EntityDeclaration,
  type EntityFacts,
  planEntity,
  planToken,
  RotationRules,
  rotationProblems,
  type TokenDeclaration,
  type TokenFacts,
  type TokenLedger,
} from '../../core/external/index.ts';
import type { Token } from '../../core/schemas/index.ts';
import { ids } from '../client/loopback.ts';
import { base, entity, held, ledger, OTHER, tiers, token } from './planner-fixtures.ts';

const ENTITY = ids.entity;
const other: Token = { ...token, id: '00000000-0000-4000-8000-000000000003', name: 'default' };

type TokenRow = {
  row: string;
  declaration?: Partial<TokenDeclaration>;
  facts: TokenFacts;
  ledger?: Partial<TokenLedger>;
  expect: Record<string, unknown>;
};

const tokenRows: TokenRow[] = [
  {
    row: 'the held token is gone: create under the next issuance',
    facts: { held: { gone: token.id } },
    ledger: { issuance: 2 },
    expect: {
      action: 'create',
      idempotencyKey: 'apitoken:uid:3',
      issuance: 3,
      replacing: token.id,
    },
  },
  {
    row: 'nothing held, tokenId names no token: refuse NotFound',
    declaration: { tokenId: token.id },
    facts: { named: null },
    expect: { action: 'refuse', reason: 'NotFound', retryable: true, field: 'tokenId' },
  },
  {
    row: 'nothing held, tokenId of another entity: refuse EntityMismatch before adopting',
    declaration: { tokenId: token.id },
    facts: { named: { ...token, entityId: OTHER } },
    expect: { action: 'refuse', reason: 'EntityMismatch', retryable: false, field: 'tokenId' },
  },
  {
    row: 'nothing held, tokenId found: adopt it',
    declaration: { tokenId: token.id },
    facts: { named: token },
    expect: { action: 'adopt', token, source: 'tokenId' },
  },
  {
    row: 'nothing held, adoptDefaultToken, found: adopt the default token',
    declaration: { adoptDefaultToken: true },
    facts: { defaultToken: other },
    expect: { action: 'adopt', token: other, source: 'default' },
  },
  {
    row: 'nothing held, adoptDefaultToken, none left: create (noted)',
    declaration: { adoptDefaultToken: true },
    facts: { defaultToken: null },
    expect: { action: 'create', idempotencyKey: 'apitoken:uid:0', noDefault: true },
  },
  {
    row: 'nothing held after a vanished token: create, never adopt again',
    declaration: { tokenId: token.id },
    facts: {},
    ledger: { issuance: 1 },
    expect: { action: 'create', idempotencyKey: 'apitoken:uid:1', issuance: 1 },
  },
  {
    row: 'nothing held otherwise: create',
    facts: {},
    expect: { action: 'create', idempotencyKey: 'apitoken:uid:0', issuance: 0 },
  },
  {
    row: 'held, first issuance, tokenId names another token: replace',
    declaration: { tokenId: other.id },
    facts: held(token),
    expect: { action: 'replace', changes: [expect.objectContaining({ field: 'tokenId' })] },
  },
  {
    row: 'held, of another entity: replace',
    declaration: { desired: { ...base.desired, entityId: OTHER } },
    facts: held(token),
    expect: { action: 'replace', changes: [expect.objectContaining({ field: 'entityId' })] },
  },
  {
    row: 'held, name and status differ: update with the changes',
    declaration: { desired: { ...base.desired, name: 'ci-2', status: 'disabled' } },
    facts: held(token),
    expect: {
      action: 'update',
      changes: [
        expect.objectContaining({ field: 'name', to: 'ci-2' }),
        expect.objectContaining({ field: 'status', to: 'disabled' }),
      ],
    },
  },
  ...(
    [
      ['created', 'counted from its creation', '2026-05-31', '2026-06-30T00:00:00.000Z'],
      ['adopted', 'counted from now', '2026-05-31', '2026-07-01T00:00:00.000Z'],
      // 2026-01-01 + 30 days is past: the platform refuses such an expiry.
      [
        'created',
        'counted from now, its lifetime being over',
        '2026-01-01',
        '2026-07-01T00:00:00.000Z',
      ],
    ] as const
  ).map(([origin, how, created, to]) => ({
    row: `held, just ${origin} on ${created} with a lifetime: its expiry ${how}`,
    declaration: { rotation: { lifetime: '30d' } },
    facts: held({ ...token, createdAt: `${created}T00:00:00.000Z` }, origin),
    expect: { action: 'update', changes: [expect.objectContaining({ field: 'expiresAt', to })] },
  })),
  {
    row: 'held, rotation due: rotate with a key per issuance and rotation',
    declaration: { rotation: { lifetime: '30d', renewBefore: '10d' } },
    facts: held({ ...token, expiresAt: '2026-06-05T00:00:00.000Z' }),
    ledger: { rotations: 4 },
    expect: {
      action: 'rotate',
      idempotencyKey: 'apitoken:uid:0:rotate:4',
      gracePeriodSeconds: 10 * 86_400,
      expiresAt: '2026-07-01T00:00:00.000Z',
    },
  },
  {
    row: 'held, rotation not yet due: none, with the renewal time',
    declaration: { rotation: { lifetime: '30d', renewBefore: '10d' } },
    facts: held({ ...token, expiresAt: '2026-06-25T00:00:00.000Z' }),
    expect: { action: 'none', renewalTime: new Date('2026-06-15T00:00:00.000Z') },
  },
  {
    row: 'held, up to date: none',
    facts: held(token),
    expect: { action: 'none', token, renewalTime: null },
  },
];

describe('token planner', () => {
  it.each(tokenRows)('$row', (row) => {
    const declaration = { ...base, ...row.declaration };
    const plan = planToken(declaration, row.facts, { ...ledger, ...row.ledger });
    expect(plan).toMatchObject(row.expect);
  });

  it('refusals say what to do', () => {
    const plan = planToken(
      { ...base, tokenId: token.id },
      { named: { ...token, entityId: OTHER } },
      ledger,
    );
    expect(plan).toMatchObject({ message: expect.stringContaining(`Declare entity ${OTHER}`) });
  });
});

const desired: DesiredEntity = {
  name: 'acme',
  kind: 'reseller',
  tier: 'gold',
  parentId: null,
  defaultToken: true,
};
const reseller = { name: 'north', tier: 'gold', kind: 'reseller' as const };

type EntityRow = {
  row: string;
  declaration?: Partial<EntityDeclaration>;
  want?: Partial<DesiredEntity>;
  facts?: Partial<EntityFacts>;
  expect: Record<string, unknown>;
};

const entityRows: EntityRow[] = [
  {
    row: "declared tier not in the platform's table: refuse InvalidSpec (built-in names too)",
    want: { tier: 'advanced' },
    expect: { action: 'refuse', reason: 'InvalidSpec', field: 'tier' },
  },
  {
    row: 'declared parent does not exist: refuse NotFound',
    facts: { parent: null },
    expect: { action: 'refuse', reason: 'NotFound', field: 'parentId' },
  },
  {
    row: 'parent is a customer: refuse InvalidSpec',
    facts: { parent: { ...reseller, kind: 'customer' } },
    expect: { action: 'refuse', reason: 'InvalidSpec', field: 'parentId' },
  },
  {
    row: "parent ranked below the declared tier (platform's table): refuse TierCeilingExceeded",
    facts: { parent: { ...reseller, tier: 'bronze' } },
    expect: { action: 'refuse', reason: 'TierCeilingExceeded', retryable: true },
  },
  {
    row: 'the held entity is gone: create, keyed by the one it replaces',
    facts: { held: { gone: ENTITY } },
    expect: { action: 'create', idempotencyKey: `entity:uid:${ENTITY}`, replacing: ENTITY },
  },
  {
    row: 'nothing held, externalId names no entity: refuse NotFound',
    declaration: { externalId: ENTITY },
    facts: { adoptee: null },
    expect: { action: 'refuse', reason: 'NotFound', field: 'externalId' },
  },
  {
    row: 'nothing held, externalId found: adopt it',
    declaration: { externalId: ENTITY },
    facts: { adoptee: entity },
    expect: { action: 'adopt', entity },
  },
  {
    row: 'nothing held otherwise: create',
    facts: { parent: reseller },
    expect: { action: 'create', idempotencyKey: 'entity:uid:first' },
  },
  {
    row: 'held, kind differs: replace',
    want: { kind: 'customer' },
    facts: { held: { entity } },
    expect: { action: 'replace', changes: [expect.objectContaining({ field: 'kind' })] },
  },
  {
    row: "held, a downgrade over the new tier's quota: refuse QuotaExceeded",
    want: { tier: 'bronze' },
    facts: { held: { entity } },
    expect: { action: 'refuse', reason: 'QuotaExceeded' },
  },
  {
    row: "held, a downgrade below a child's tier: refuse TierCeilingExceeded",
    want: { tier: 'bronze' },
    facts: { held: { entity: { ...entity, tokenCount: 1 } }, childTiers: ['gold'] },
    expect: { action: 'refuse', reason: 'TierCeilingExceeded' },
  },
  {
    row: 'held, name and tier differ: update',
    want: { name: 'acme 2', tier: 'bronze' },
    facts: { held: { entity: { ...entity, tokenCount: 1 } }, childTiers: ['bronze'] },
    expect: {
      action: 'update',
      changes: [
        expect.objectContaining({ field: 'name' }),
        expect.objectContaining({ field: 'tier' }),
      ],
    },
  },
  {
    row: 'held, up to date: none',
    facts: { held: { entity } },
    expect: { action: 'none', entity },
  },
];

describe('entity planner', () => {
  it.each(entityRows)('$row', (row) => {
    const declaration = { desired: { ...desired, ...row.want }, ...row.declaration };
    const plan = planEntity(declaration, { tiers, ...row.facts }, 'entity:uid');
    expect(plan).toMatchObject(row.expect);
  });
});

describe('rotation rules (the CRD’s CEL rules, applied by the provider’s check)', () => {
  it.each([
    { fields: { lifetime: '720h', renewBefore: '240h' }, problems: [] },
    { fields: { expiresAt: '2031-01-01T00:00:00Z' }, problems: [] },
    {
      fields: { lifetime: '720h', expiresAt: null },
      problems: [{ path: 'lifetime', message: RotationRules.oneExpiry }],
    },
    {
      fields: { renewBefore: '1h' },
      problems: [{ path: 'renewBefore', message: RotationRules.renewNeedsLifetime }],
    },
    {
      fields: { lifetime: '9s' },
      problems: [{ path: 'lifetime', message: RotationRules.lifetimeTooShort }],
    },
    {
      fields: { lifetime: '1h', renewBefore: '60m' },
      problems: [{ path: 'renewBefore', message: RotationRules.renewNotShorter }],
    },
  ])('$fields', ({ fields, problems }) => {
    expect(rotationProblems(fields)).toEqual(problems);
  });
});

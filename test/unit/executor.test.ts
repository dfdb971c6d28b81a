// The one executor of the planners' decisions (core/external/executor.ts),
// row by row, over plain fakes of the Externals: what it calls on the platform,
// which hooks it tells, and how the run ends. Both drivers' suites run it
// against a real platform (test/operator, test/provider).
import { describe, expect, it } from 'vitest';
import { IdempotencyGoneError, type TokenplaneClient } from '../../core/client/index.ts';
import { problemType } from '../../core/domain/problems.ts';
import {
  type EntityDeclaration,
  EntityExternal,
  type EntityFacts,
  type EntityVerbs,
  MAX_ACTIONS,
  NOT_SETTLED,
  settleEntity,
  settleToken,
  type TokenDeclaration,
  type TokenFacts,
  type TokenLedger,
  type TokenVerbs,
} from '../../core/external/index.ts';
import { ids } from '../client/loopback.ts';
import { base, entity, held, ledger, OTHER, tiers, token } from './planner-fixtures.ts';

const NEW = '00000000-0000-4000-8000-000000000010';
const rotation = { lifetime: '30d', renewBefore: '10d' };

/** The platform's 410 to a replayed request whose result is gone. */
const gone = (what: 'token' | 'entity', id: string) =>
  new IdempotencyGoneError({
    status: 410,
    problem: { type: problemType('idempotency-gone'), title: 'Gone', status: 410, gone: what, id },
    method: 'POST',
    path: '/v1/…',
  });

/** Every hook, as a line in `told`. */
function recorder() {
  const told: string[] = [];
  const hooks = {
    creating: (p: { idempotencyKey: string; replacing?: string }) =>
      told.push(`creating ${p.idempotencyKey}${p.replacing ? ` replacing ${p.replacing}` : ''}`),
    created: (made: { id: string }) => told.push(`created ${made.id}`),
    adopted: () => told.push('adopted'),
    updated: (_: unknown, p: { changes: { field: string }[] }, origin?: string) =>
      told.push(`updated ${p.changes.map((c) => c.field)}${origin ? ` (${origin})` : ''}`),
    rotating: (_: unknown, value: string | undefined) => {
      told.push(`rotating from ${value ?? 'the platform'}`);
    },
    rotated: (_: unknown, value: string) => {
      told.push(`rotated to ${value}`);
    },
    superseded: (_: unknown, n: number) => told.push(`superseded ${n}`),
  };
  return { told, hooks };
}

type Platform = Partial<Omit<TokenVerbs, 'observe'>>;

/** An in-memory TokenExternal: `observe` answers `facts`, every verb is recorded. */
function fakeTokens(facts: TokenFacts, over: Platform = {}) {
  const calls: string[] = [];
  const tokens: TokenVerbs = {
    async observe() {
      calls.push('observe');
      return { ...facts };
    },
    async create(desired, key) {
      calls.push(`create ${key}`);
      return { ...token, id: NEW, name: desired.name, expiresAt: null, value: 'tpt_new' };
    },
    async update(id, changes) {
      calls.push(`update ${changes.map((c) => c.field)}`);
      return { ...token, id, ...Object.fromEntries(changes.map((c) => [c.field, c.to])) };
    },
    async rotatePlanned(plan) {
      calls.push(`rotate ${plan.idempotencyKey}`);
      return { token: { ...plan.token, expiresAt: plan.expiresAt }, value: 'tpt_rotated' };
    },
  };
  return { calls, tokens: { ...tokens, ...over } as TokenVerbs };
}

type TokenRow = {
  row: string;
  declaration?: Partial<TokenDeclaration>;
  facts: TokenFacts;
  ledger?: Partial<TokenLedger>;
  platform?: Platform;
  calls: string[];
  told: string[];
  outcome: Record<string, unknown>;
};

const tokenRows: TokenRow[] = [
  {
    row: 'nothing held: create, and hold what it made with its value',
    facts: {},
    calls: ['observe', 'create apitoken:uid:0'],
    told: ['creating apitoken:uid:0', `created ${NEW}`],
    outcome: { settled: { token: { id: NEW }, origin: 'created', value: 'tpt_new', issuance: 0 } },
  },
  {
    row: "a create whose key's token is gone: the next issuance creates, under its own key",
    facts: {},
    platform: {
      async create(desired, key) {
        if (key === 'apitoken:uid:0') throw gone('token', token.id);
        return { ...token, id: NEW, name: desired.name, value: 'tpt_new' };
      },
    },
    calls: ['observe'],
    told: [
      'creating apitoken:uid:0',
      `creating apitoken:uid:1 replacing ${token.id}`,
      `created ${NEW}`,
    ],
    outcome: { settled: { origin: 'created', issuance: 1 } },
  },
  {
    row: 'tokenId found: adopt it, and call nothing',
    declaration: { tokenId: token.id },
    facts: { named: token },
    calls: ['observe'],
    told: ['adopted'],
    outcome: { settled: { token, origin: 'adopted' } },
  },
  {
    row: 'held and drifted: update in place, as held before',
    declaration: { desired: { ...base.desired, status: 'disabled' } },
    facts: held(token),
    calls: ['observe', 'update status'],
    told: ['updated status (recorded)'],
    outcome: { settled: { token: { status: 'disabled' }, origin: 'recorded' } },
  },
  {
    row: 'just created with a lifetime: the expiry from its creation, then the renewal time',
    declaration: { rotation },
    facts: {},
    ledger: { now: new Date('2026-01-02T00:00:00Z') },
    calls: ['observe', 'create apitoken:uid:0', 'update expiresAt'],
    told: ['creating apitoken:uid:0', `created ${NEW}`, 'updated expiresAt (created)'],
    outcome: {
      settled: {
        token: { expiresAt: '2026-01-31T00:00:00.000Z' },
        renewalTime: new Date('2026-01-21T00:00:00.000Z'),
      },
    },
  },
  {
    row: 'rotation due: rotate, hold the new value, and say when the next one is due',
    declaration: { rotation },
    facts: held({ ...token, expiresAt: '2026-06-05T00:00:00.000Z' }),
    ledger: { rotations: 2 },
    calls: ['observe', 'rotate apitoken:uid:0:rotate:2'],
    told: ['rotating from the platform', 'rotated to tpt_rotated'],
    outcome: {
      settled: {
        token: { expiresAt: '2026-07-01T00:00:00.000Z' },
        value: 'tpt_rotated',
        rotations: 3,
        renewalTime: new Date('2026-06-21T00:00:00.000Z'),
      },
    },
  },
  {
    row: 'a rotation superseded since: the next count rotates, no new token',
    declaration: { rotation },
    facts: held({ ...token, expiresAt: '2026-06-05T00:00:00.000Z' }),
    ledger: { rotations: 2 },
    platform: {
      async rotatePlanned(plan) {
        if (plan.idempotencyKey.endsWith(':2')) return null;
        return { token: { ...plan.token, expiresAt: plan.expiresAt }, value: 'tpt_rotated' };
      },
    },
    calls: ['observe'],
    told: [
      'rotating from the platform',
      'superseded 2',
      'rotating from the platform',
      'rotated to tpt_rotated',
    ],
    outcome: { settled: { rotations: 4, value: 'tpt_rotated' } },
  },
  {
    row: 'refused: nothing is called, the refusal is the answer',
    declaration: { tokenId: token.id },
    facts: { named: { ...token, entityId: OTHER } },
    calls: ['observe'],
    told: [],
    outcome: { refused: { reason: 'EntityMismatch', retryable: false, field: 'tokenId' } },
  },
  {
    row: 'a replacement is refused: NeedsReplace, with the planner’s message',
    declaration: { desired: { ...base.desired, entityId: OTHER } },
    facts: held(token),
    calls: ['observe'],
    told: [],
    outcome: {
      refused: {
        reason: 'NeedsReplace',
        retryable: false,
        message: expect.stringContaining('entityId'),
      },
    },
  },
  {
    row: `never settling: ${MAX_ACTIONS} actions, then the one "did not settle"`,
    declaration: { desired: { ...base.desired, name: 'ci-2' } },
    facts: held(token),
    platform: { update: async () => token },
    calls: ['observe'],
    told: Array(MAX_ACTIONS).fill('updated name (recorded)'),
    outcome: { refused: NOT_SETTLED },
  },
];

describe('the executor, for ApiTokens', () => {
  it.each(tokenRows)('$row', async (row) => {
    const f = fakeTokens(row.facts, row.platform);
    const r = recorder();
    const outcome = await settleToken(
      {
        tokens: f.tokens,
        declaration: { ...base, ...row.declaration },
        ledger: { ...ledger, ...row.ledger },
        sight: {},
      },
      r.hooks,
    );
    expect(f.calls).toEqual(row.calls);
    expect(r.told).toEqual(row.told);
    expect(outcome).toMatchObject(row.outcome);
  });

  it('advances the ledger it is given, and asks the round hook before each action', async () => {
    const f = fakeTokens({ held: { gone: token.id } });
    const counts = { ...ledger, issuance: 2 };
    let rounds = 0;
    await settleToken(
      { tokens: f.tokens, declaration: base, ledger: counts, sight: {} },
      { round: () => rounds++ },
    );
    expect(counts.issuance).toBe(3);
    expect(rounds).toBe(2); // the create, then the answer that nothing is left
  });

  it('a hook that throws stops the run before the call it precedes', async () => {
    const f = fakeTokens({ held: { gone: token.id } });
    const refresh = new Error('run `pulumi refresh`');
    const run = settleToken(
      { tokens: f.tokens, declaration: base, ledger: { ...ledger }, sight: {} },
      {
        creating: () => {
          throw refresh;
        },
      },
    );
    await expect(run).rejects.toBe(refresh);
    expect(f.calls).toEqual(['observe']);
  });

  it('a replayed create whose lifetime is over gets a new expiry counted from now, not a rotation', async () => {
    // A replayed create answers with the token it made long ago: its value was just handed to
    // this run, so it is kept and given the lifetime again (the platform refuses a past expiry).
    const f = fakeTokens(
      {},
      {
        create: async (desired) => ({
          ...token,
          id: NEW,
          name: desired.name,
          expiresAt: '2029-12-31T00:00:00.000Z',
          value: 'tpt_new',
        }),
      },
    );
    const r = recorder();
    const fresh = { ...ledger, now: new Date('2030-01-01T00:00:00Z') };
    await settleToken(
      { tokens: f.tokens, declaration: { ...base, rotation }, ledger: fresh, sight: {} },
      r.hooks,
    );
    expect(r.told).toContain('updated expiresAt (created)');
    expect(f.calls).toEqual(['observe', 'update expiresAt']);
  });
});

const declared: EntityDeclaration = {
  desired: { name: 'acme', kind: 'reseller', tier: 'gold', parentId: null, defaultToken: true },
};

function fakeEntities(facts: Omit<EntityFacts, 'tiers'>, over: Partial<EntityVerbs> = {}) {
  const calls: string[] = [];
  const entities: EntityVerbs = {
    async observe() {
      calls.push('observe');
      return { tiers, ...facts };
    },
    async create(desired, key) {
      calls.push(`create ${key}`);
      return { ...entity, id: NEW, name: desired.name, tier: desired.tier };
    },
    async update(id, changes) {
      calls.push(`update ${changes.map((c) => c.field)}`);
      return { ...entity, id, ...Object.fromEntries(changes.map((c) => [c.field, c.to])) };
    },
  };
  return { calls, entities: { ...entities, ...over } as EntityVerbs };
}

type EntityRow = {
  row: string;
  declaration?: Partial<EntityDeclaration>;
  facts: Omit<EntityFacts, 'tiers'>;
  platform?: Partial<EntityVerbs>;
  calls: string[];
  told: string[];
  outcome: Record<string, unknown>;
};

const entityRows: EntityRow[] = [
  {
    row: 'nothing held: create under the first key',
    facts: {},
    calls: ['observe', 'create entity:uid:first'],
    told: ['creating entity:uid:first', `created ${NEW}`],
    outcome: { settled: { id: NEW } },
  },
  {
    row: "the held entity is gone and its replacement's replay too: the next key creates",
    facts: { held: { gone: OTHER } },
    platform: {
      async create(desired, key) {
        if (key === `entity:uid:${OTHER}`) throw gone('entity', NEW);
        return { ...entity, id: ids.child, name: desired.name };
      },
    },
    calls: ['observe'],
    told: [
      `creating entity:uid:${OTHER} replacing ${OTHER}`,
      `creating entity:uid:${NEW} replacing ${NEW}`,
      `created ${ids.child}`,
    ],
    outcome: { settled: { id: ids.child } },
  },
  {
    row: 'externalId found: adopt it',
    declaration: { externalId: entity.id },
    facts: { adoptee: entity },
    calls: ['observe'],
    told: ['adopted'],
    outcome: { settled: entity },
  },
  {
    row: 'held, tier differs: update in place',
    declaration: { desired: { ...declared.desired, tier: 'bronze' } },
    facts: { held: { entity: { ...entity, tokenCount: 1 } } },
    calls: ['observe', 'update tier'],
    told: ['updated tier'],
    outcome: { settled: { tier: 'bronze' } },
  },
  {
    row: 'parent ranked below the declared tier: refused, nothing created',
    facts: { parent: { name: 'north', tier: 'bronze', kind: 'reseller' } },
    calls: ['observe'],
    told: [],
    outcome: { refused: { reason: 'TierCeilingExceeded', field: 'tier' } },
  },
  {
    row: 'held, another kind: a replacement, refused as NeedsReplace',
    declaration: { desired: { ...declared.desired, kind: 'customer' } },
    facts: { held: { entity } },
    calls: ['observe'],
    told: [],
    outcome: { refused: { reason: 'NeedsReplace', retryable: false } },
  },
  {
    row: `never settling: ${MAX_ACTIONS} actions, then the one "did not settle"`,
    declaration: { desired: { ...declared.desired, name: 'acme-2' } },
    facts: { held: { entity } },
    platform: { update: async () => entity },
    calls: ['observe'],
    told: Array(MAX_ACTIONS).fill('updated name'),
    outcome: { refused: NOT_SETTLED },
  },
];

describe('the executor, for Entities', () => {
  it.each(entityRows)('$row', async (row) => {
    const f = fakeEntities(row.facts, row.platform);
    const r = recorder();
    const outcome = await settleEntity(
      {
        entities: f.entities,
        declaration: { ...declared, ...row.declaration },
        identity: 'entity:uid',
        sight: { tiers: async () => tiers },
      },
      r.hooks,
    );
    expect(f.calls).toEqual(row.calls);
    expect(r.told).toEqual(row.told);
    expect(outcome).toMatchObject(row.outcome);
  });
});

describe('EntityExternal.observe', () => {
  /** A client that answers reads of `entity`, its parent and its children. */
  const client = (calls: string[]) =>
    ({
      async getEntity(id: string) {
        calls.push(`getEntity ${id === entity.id ? 'held' : 'parent'}`);
        return id === entity.id ? entity : { ...entity, id, name: 'north', tier: 'gold' };
      },
      async listAllEntities() {
        calls.push('listAllEntities');
        return [{ ...entity, id: ids.child, tier: 'gold' }];
      },
    }) as unknown as TokenplaneClient;
  const child = { ...declared.desired, parentId: OTHER };

  it.each([
    {
      row: 'nothing held: the parent, to judge a create by',
      desired: child,
      reads: ['getEntity parent'],
    },
    {
      row: 'held, same tier: nothing more',
      desired: child,
      heldId: entity.id,
      reads: ['getEntity held'],
    },
    {
      row: 'held, a tier change: the parent and the children',
      desired: { ...child, tier: 'bronze' },
      heldId: entity.id,
      reads: ['getEntity held', 'getEntity parent', 'listAllEntities'],
      childTiers: ['gold'],
    },
  ])('$row', async ({ desired, heldId, reads, childTiers }) => {
    const calls: string[] = [];
    const facts = await new EntityExternal(client(calls)).observe(
      { desired },
      { tiers: async () => tiers, heldId, parent: 'read' },
    );
    expect(calls).toEqual(reads);
    expect(facts.childTiers).toEqual(childTiers);
  });

  it("takes the parent the driver knows, and reads none (the operator's cache)", async () => {
    const calls: string[] = [];
    const parent = { name: 'north', tier: 'gold', kind: 'reseller' as const };
    const facts = await new EntityExternal(client(calls)).observe(
      { desired: { ...declared.desired, parentId: OTHER } },
      { tiers: async () => tiers, parent },
    );
    expect(calls).toEqual([]);
    expect(facts.parent).toBe(parent);
  });
});

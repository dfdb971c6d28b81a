// What the planner's and the executor's tables both start from: a held token,
// a declaration, a ledger, a tier table and an entity.
import { TierTable } from '../../core/domain/index.ts';
import type { TokenDeclaration, TokenFacts, TokenLedger } from '../../core/external/index.ts';
import type { Entity, Token } from '../../core/schemas/index.ts';
import { ids, tokenBody } from '../client/loopback.ts';

export const at = '2026-01-01T00:00:00.000Z';
export const OTHER = '00000000-0000-4000-8000-000000000009';
export const token = tokenBody({ expiresAt: '2027-01-01T00:00:00.000Z' }) as Token;
export const base: TokenDeclaration = {
  desired: { entityId: ids.entity, name: 'ci', status: 'active' },
};
export const ledger: TokenLedger = {
  identity: 'apitoken:uid',
  issuance: 0,
  rotations: 0,
  now: new Date('2026-06-01T00:00:00Z'),
};
export const held = (
  t: Token,
  origin: 'recorded' | 'created' | 'adopted' = 'recorded',
): TokenFacts => ({ held: { token: t, origin } });

export const tiers = new TierTable([
  { name: 'bronze', rank: 0, tokenQuota: 2 },
  { name: 'gold', rank: 5, tokenQuota: 10 },
]);
export const entity: Entity = {
  id: ids.entity,
  name: 'acme',
  kind: 'reseller',
  parentId: null,
  tier: 'gold',
  tokenQuota: 10,
  tokenCount: 3,
  createdAt: at,
  updatedAt: at,
};

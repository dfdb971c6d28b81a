/**
 * The ceiling, quota and scope-ceiling rules, pure. The server enforces them inside a
 * transaction; the operator and the provider call the same functions to give
 * early, identical messages (a CRD condition, a `pulumi preview` failure).
 */
import { tierOfSet } from './analytics-catalogue.ts';
import { SCOPE_CORE, scopesAboveTier } from './permissions.ts';
import type { Tier, TierTable } from './tiers.ts';

export type QuotaViolation = {
  slug: 'quota-exceeded';
  detail: string;
  tier: string;
  quota: number;
  inUse: number;
};

export type CeilingViolation = {
  slug: 'tier-ceiling';
  detail: string;
  tier: string;
  limitTier: string;
};

export type GovernanceViolation = {
  slug: 'forbidden';
  detail: string;
  /** Who may make the change: the problem extension that tells clients this is governance, not role. */
  governedBy: 'administrator' | 'ancestor';
};

export type ScopeViolation = {
  slug: 'scope-above-tier';
  detail: string;
  tier: string;
  scopes: string[];
  requiredTier: string;
  tokens?: { id: string; name: string; scopes: string[] }[];
};

/** Create and PATCH: every scope must lie within the entity's tier. */
export function checkScopeCeiling(
  tiers: TierTable,
  tier: string,
  scopes: readonly string[],
): ScopeViolation | null {
  const above = scopesAboveTier(tiers, tier, scopes);
  if (above.length === 0) return null;
  const required = tierOfSet(tiers, 'premium').name;
  return {
    slug: 'scope-above-tier',
    tier,
    scopes: above,
    requiredTier: required,
    detail:
      `Scope ${above.map((s) => `"${s}"`).join(', ')} needs tier "${required}"; the entity has tier "${tier}". ` +
      `Choose ${SCOPE_CORE} or a basic metric, or move the entity to tier "${required}" first.`,
  };
}

/** A downgrade: no token of the entity may keep a scope above the new tier. */
export function checkDowngradeScopes(
  tiers: TierTable,
  newTier: string,
  tokens: readonly { id: string; name: string; scopes: readonly string[] }[],
  entityName = 'the entity',
): ScopeViolation | null {
  const holding = tokens
    .map((t) => ({ id: t.id, name: t.name, scopes: scopesAboveTier(tiers, newTier, t.scopes) }))
    .filter((t) => t.scopes.length > 0);
  if (holding.length === 0) return null;
  const scopes = [...new Set(holding.flatMap((t) => t.scopes))];
  return {
    slug: 'scope-above-tier',
    tier: newTier,
    scopes,
    requiredTier: tierOfSet(tiers, 'premium').name,
    tokens: holding,
    detail:
      `${capitalise(entityName)} cannot drop to tier "${newTier}": token(s) ` +
      `${holding.map((t) => `"${t.name}" (${t.id})`).join(', ')} hold scope(s) ` +
      `${scopes.map((s) => `"${s}"`).join(', ')} that tier does not include. Narrow their scopes first.`,
  };
}

export type RuleViolation = QuotaViolation | CeilingViolation | ScopeViolation;

/** What an entity's own keys may not change about it (README "Platform API"). */
export type GovernedChange = 'tier' | 'name' | 'deletion';

/**
 * An entity is governed by those above it: its tier, name and deletion are
 * changed only by the administrator key (scope null) or by an access key of a
 * strict ancestor — never by its own keys, or a customer could upgrade itself.
 * `scope` is the caller's entity, already known to be the entity or an ancestor.
 */
export function checkGovernance(
  scope: string | null,
  entity: { id: string; name: string },
  changes: readonly GovernedChange[],
  parentName: string | null,
): GovernanceViolation | null {
  if (scope === null || scope !== entity.id || changes.length === 0) return null;
  const who =
    parentName === null
      ? 'the administrator key'
      : `the administrator key or an access key of an ancestor (such as its parent "${parentName}")`;
  return {
    slug: 'forbidden',
    governedBy: parentName === null ? 'administrator' : 'ancestor',
    detail:
      `The ${listed(changes)} of entity "${entity.name}" cannot be changed by its own access keys: ` +
      `only ${who} can. Ask them; the entity's own keys manage its tokens, access keys and children.`,
  };
}

function listed(changes: readonly GovernedChange[]): string {
  return changes.length === 1
    ? (changes[0] as string)
    : `${changes.slice(0, -1).join(', ')} and ${changes.at(-1)}`;
}

/** A child may not rank above its parent. */
export function checkCeiling(
  tiers: TierTable,
  childTier: string,
  parentTier: string,
  parentName = 'the parent entity',
): CeilingViolation | null {
  if (tiers.get(childTier).rank <= tiers.get(parentTier).rank) return null;
  return {
    slug: 'tier-ceiling',
    tier: childTier,
    limitTier: parentTier,
    detail:
      `Tier "${childTier}" is above the tier "${parentTier}" of ${parentName}. ` +
      `Choose "${parentTier}" or lower, or upgrade ${parentName} first.`,
  };
}

/** A parent may not drop below any of its children. */
export function checkParentDowngrade(
  tiers: TierTable,
  newTier: string,
  childTiers: readonly string[],
  entityName = 'the entity',
): CeilingViolation | null {
  const highest = highestTier(tiers, childTiers);
  if (!highest || highest.rank <= tiers.get(newTier).rank) return null;
  return {
    slug: 'tier-ceiling',
    tier: newTier,
    limitTier: highest.name,
    detail:
      `${capitalise(entityName)} cannot drop to tier "${newTier}": a child entity has tier ` +
      `"${highest.name}". Downgrade its children first.`,
  };
}

/** Adding `adding` tokens to an entity that holds `inUse` must stay within quota. */
export function checkQuota(
  tiers: TierTable,
  tierName: string,
  inUse: number,
  adding = 1,
  entityName = 'the entity',
): QuotaViolation | null {
  const tier = tiers.get(tierName);
  if (inUse + adding <= tier.tokenQuota) return null;
  const want = adding === 1 ? 'another token' : `${adding} more tokens`;
  return quotaViolation(
    tier,
    inUse,
    `${capitalise(entityName)} (tier "${tier.name}") holds ${inUse} of ${tier.tokenQuota} ` +
      `token(s) allowed, so it cannot take ${want}. Remove a token or move the entity to a higher tier.`,
  );
}

/** A tier change must leave the entity within the new tier's quota. */
export function checkDowngradeQuota(
  tiers: TierTable,
  newTier: string,
  inUse: number,
  entityName = 'the entity',
): QuotaViolation | null {
  const tier = tiers.get(newTier);
  if (inUse <= tier.tokenQuota) return null;
  return quotaViolation(
    tier,
    inUse,
    `${capitalise(entityName)} holds ${inUse} tokens but tier "${tier.name}" allows ` +
      `${tier.tokenQuota}. Remove ${inUse - tier.tokenQuota} token(s) before changing the tier.`,
  );
}

/**
 * How many values replaced by rotations may verify at once for one token, each
 * until its own grace ends (the current value aside): a signed request is
 * checked against each of them, so they stay few.
 */
export const MAX_VALUES_IN_GRACE = 10;

export type GraceViolation = {
  slug: 'grace-limit';
  detail: string;
  tokenId: string;
  limit: number;
  /** Seconds until the first grace ends, and with it room for one more. */
  retryAfter: number;
};

/** A rotation with a grace keeps the value it replaces: there must be room for it. */
export function checkGraceRoom(
  tokenId: string,
  /** When the graces of the token's replaced values still verifying end (epoch ms). */
  graceEnds: readonly number[],
  nowMs: number,
): GraceViolation | null {
  if (graceEnds.length < MAX_VALUES_IN_GRACE) return null;
  const firstEnd = Math.min(...graceEnds);
  return {
    slug: 'grace-limit',
    tokenId,
    limit: MAX_VALUES_IN_GRACE,
    retryAfter: Math.ceil((firstEnd - nowMs) / 1000),
    detail:
      `Token ${tokenId} already has ${graceEnds.length} replaced values still in their grace, ` +
      `the most kept at once (${MAX_VALUES_IN_GRACE}), so this rotation cannot keep the current ` +
      `value verifying too. Rotate with gracePeriodSeconds 0 (the current value stops at once), ` +
      `or after ${new Date(firstEnd).toISOString()}, when the first grace ends.`,
  };
}

function quotaViolation(tier: Tier, inUse: number, detail: string): QuotaViolation {
  return { slug: 'quota-exceeded', tier: tier.name, quota: tier.tokenQuota, inUse, detail };
}

function highestTier(tiers: TierTable, names: readonly string[]): Tier | undefined {
  let best: Tier | undefined;
  for (const name of names) {
    const tier = tiers.get(name);
    if (!best || tier.rank > best.rank) best = tier;
  }
  return best;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * Which tiers the console offers in "New entity" and "Edit entity": every tier of
 * the table, those the platform would refuse disabled with the reason — the same
 * ceiling and quota rules (core/domain) the server enforces.
 */
import { checkCeiling, checkDowngradeQuota } from '../../core/domain/rules.ts';
import type { TierTable } from '../../core/domain/tiers.ts';

export type TierChoice = {
  name: string;
  tokenQuota: number;
  /** Why the platform would refuse this tier; null when it is allowed. */
  reason: string | null;
};

export type TierContext = {
  /** The parent whose tier is the ceiling; null for a top-level entity. */
  parent: { name: string; tier: string } | null;
  /** An existing entity's name and token count (edit), for the quota of a downgrade. */
  entity?: { name: string; tokenCount: number };
};

export function tierChoices(tiers: TierTable, context: TierContext): TierChoice[] {
  return tiers.tiers.map((tier) => {
    const { parent, entity } = context;
    const ceiling = parent
      ? checkCeiling(tiers, tier.name, parent.tier, `parent "${parent.name}"`)
      : null;
    const quota = entity
      ? checkDowngradeQuota(tiers, tier.name, entity.tokenCount, `entity "${entity.name}"`)
      : null;
    return {
      name: tier.name,
      tokenQuota: tier.tokenQuota,
      reason: ceiling?.detail ?? quota?.detail ?? null,
    };
  });
}

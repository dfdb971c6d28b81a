/**
 * Plan-time quota: will the ApiTokens a program declares for one entity fit its
 * tier? Pure. The Pulumi provider calls it from `check`, where each token sees
 * only itself, so it works from what is known at that moment and never fails
 * unless the plan is certain to break the quota (a lower bound of what the
 * platform will hold once the plan is applied):
 *
 *   declared tokens (all of them end up on the platform)
 * + tokens on the platform that no declaration claims (still there afterwards)
 * + the default token a new entity will be issued, unless a declaration adopts it
 *
 * A declaration claims a platform token when it already manages one (it exists
 * in the state) or adopts one (`tokenId`, `adoptDefaultToken`). Declarations
 * whose check has not run yet are assumed to claim one platform token each, so
 * the bound stays a bound; the last one to be checked sees everything.
 */
import { checkQuota, type QuotaViolation } from '../domain/rules.ts';
import type { TierTable } from '../domain/tiers.ts';

export type CheckedDeclaration = {
  name: string;
  /** Already managed: the resource is in the state (its token is on the platform). */
  managed: boolean;
  /** New, and adopts a token that exists on the platform. */
  adoptsExisting: boolean;
};

export type QuotaPlan = {
  /** How a person knows the entity: its name, or its id. */
  entityName: string;
  tier: string;
  /** Every ApiToken the program declares for the entity, in declaration order. */
  declared: readonly string[];
  /** The declarations whose check already ran in this operation. */
  checked: readonly CheckedDeclaration[];
  /** Whether the entity exists on the platform already. */
  entityExists: boolean;
  /** Tokens the entity holds on the platform now (0 for a new entity). */
  platformTokens: number;
  /** A new entity will be issued its default token. */
  willIssueDefault: boolean;
  /** Some declaration sets `adoptDefaultToken`. */
  defaultAdopted: boolean;
};

export type PlannedQuotaViolation = QuotaViolation & {
  /** Declarations beyond what fits, in declaration order. */
  offending: string[];
  /** Tokens counted that the program does not declare. */
  undeclared: number;
};

export function planQuota(tiers: TierTable, plan: QuotaPlan): PlannedQuotaViolation | null {
  const declared = plan.declared.length;
  let undeclared: number;
  if (plan.entityExists) {
    const claimed = plan.checked.filter((d) => d.managed || d.adoptsExisting).length;
    const unchecked = Math.max(0, declared - plan.checked.length);
    undeclared = Math.max(0, plan.platformTokens - claimed - unchecked);
  } else {
    undeclared = plan.willIssueDefault && !plan.defaultAdopted ? 1 : 0;
  }
  const violation = checkQuota(tiers, plan.tier, undeclared, declared, plan.entityName);
  if (!violation) return null;
  const room = Math.max(0, violation.quota - undeclared);
  const offending = plan.declared.slice(room);
  const parts = [
    `Entity "${plan.entityName}" (tier "${violation.tier}") allows ${violation.quota} token(s), ` +
      `but this program would give it ${declared + undeclared}: ${declared} declared ApiToken(s) ` +
      `(${plan.declared.join(', ')})` +
      (undeclared > 0 ? ` and ${undeclared} token(s) not declared here.` : '.'),
    `Over the quota: ${offending.join(', ')}.`,
  ];
  if (undeclared > 0) {
    parts.push(
      plan.entityExists
        ? `${undeclared} token(s) on the platform are not declared in this program and count too ` +
            '(adopt one with `tokenId` or `adoptDefaultToken`, or remove it).'
        : 'The new entity will be issued its default token: set `adoptDefaultToken: true` on one ' +
            'ApiToken to take it over, or `defaultToken: false` on the Entity.',
    );
  }
  parts.push('Remove ApiTokens or move the entity to a higher tier.');
  return { ...violation, offending, undeclared, detail: parts.join(' ') };
}

import { describe, expect, it } from 'vitest';
import { TierTable } from '../../core/domain/index.ts';
import { planQuota, type QuotaPlan } from '../../core/external/index.ts';

const tiers = new TierTable();
const base: QuotaPlan = {
  entityName: 'acme',
  tier: 'lite',
  declared: ['ci'],
  checked: [],
  entityExists: false,
  platformTokens: 0,
  willIssueDefault: false,
  defaultAdopted: false,
};

describe('plan-time quota', () => {
  it('accepts a plan that fits', () => {
    expect(planQuota(tiers, base)).toBeNull();
    expect(planQuota(tiers, { ...base, willIssueDefault: true, defaultAdopted: true })).toBeNull();
  });

  it('refuses more declarations than the tier allows, naming entity, tier, quota and resources', () => {
    const v = planQuota(tiers, { ...base, declared: ['ci', 'deploy', 'ops'] });
    expect(v).toMatchObject({ tier: 'lite', quota: 1, offending: ['deploy', 'ops'] });
    expect(v?.detail).toContain('Entity "acme"');
    expect(v?.detail).toContain('tier "lite"');
    expect(v?.detail).toContain('ci, deploy, ops');
  });

  it('counts the default token a new entity will be issued unless it is adopted', () => {
    const v = planQuota(tiers, { ...base, willIssueDefault: true });
    expect(v).toMatchObject({ undeclared: 1, offending: ['ci'] });
    expect(v?.detail).toContain('adoptDefaultToken');
  });

  it('counts platform tokens no declaration claims, as a lower bound until all are checked', () => {
    const plan = {
      ...base,
      tier: 'advanced',
      entityExists: true,
      platformTokens: 5,
      declared: ['a', 'b', 'c', 'd'],
    };
    const managed = (name: string) => ({ name, managed: true, adoptsExisting: false });
    // Three declarations not checked yet may each manage one of the five tokens.
    expect(planQuota(tiers, { ...plan, checked: [managed('a')] })).toBeNull();
    // All checked: a, b, c manage three; two undeclared tokens remain; d is one too many.
    const v = planQuota(tiers, {
      ...plan,
      checked: [
        managed('a'),
        managed('b'),
        managed('c'),
        { name: 'd', managed: false, adoptsExisting: false },
      ],
    });
    expect(v).toMatchObject({ quota: 5, undeclared: 2, offending: ['d'] });
    // Adopting one of the undeclared tokens makes it fit.
    expect(
      planQuota(tiers, {
        ...plan,
        checked: [
          managed('a'),
          managed('b'),
          managed('c'),
          { name: 'd', managed: false, adoptsExisting: true },
        ],
      }),
    ).toBeNull();
  });
});

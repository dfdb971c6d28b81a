import { describe, expect, it } from 'vitest';
import {
  checkCeiling,
  checkDowngradeQuota,
  checkParentDowngrade,
  checkQuota,
  generateSecret,
  isWellFormedSecret,
  SECRET_PATTERN,
  secretHint,
  TierTable,
} from '../../core/domain/index.ts';

const tiers = new TierTable();

describe('tier table', () => {
  it('has the seeds defaults', () => {
    expect(tiers.tiers).toEqual([
      { name: 'lite', rank: 0, tokenQuota: 1 },
      { name: 'advanced', rank: 1, tokenQuota: 5 },
    ]);
    expect(tiers.defaultTier.name).toBe('lite');
  });

  it('reads a configured table and rejects a malformed one', () => {
    const custom = TierTable.fromEnv(
      '[{"name":"gold","rank":2,"tokenQuota":10},{"name":"lite","rank":0,"tokenQuota":1}]',
    );
    expect(custom.names).toEqual(['lite', 'gold']);
    expect(() => TierTable.fromEnv('[{"name":"x"}]')).toThrow(/TOKENPLANE_TIERS/);
    expect(() => tiers.get('platinum')).toThrow(/known tiers: lite, advanced/);
  });
});

describe('ceiling', () => {
  it('refuses a child above its parent and names both tiers', () => {
    expect(checkCeiling(tiers, 'lite', 'advanced')).toBeNull();
    expect(checkCeiling(tiers, 'advanced', 'advanced')).toBeNull();
    const v = checkCeiling(tiers, 'advanced', 'lite', 'reseller "acme"');
    expect(v).toMatchObject({ slug: 'tier-ceiling', tier: 'advanced', limitTier: 'lite' });
    expect(v?.detail).toMatch(/"advanced" is above the tier "lite" of reseller "acme"/);
  });

  it('refuses a parent dropping below a child', () => {
    expect(checkParentDowngrade(tiers, 'lite', ['lite'])).toBeNull();
    expect(checkParentDowngrade(tiers, 'lite', [])).toBeNull();
    expect(checkParentDowngrade(tiers, 'lite', ['lite', 'advanced'])).toMatchObject({
      limitTier: 'advanced',
    });
  });
});

describe('quota', () => {
  it('allows up to the quota and reports tier, quota and inUse beyond it', () => {
    expect(checkQuota(tiers, 'lite', 0)).toBeNull();
    expect(checkQuota(tiers, 'lite', 1)).toMatchObject({
      slug: 'quota-exceeded',
      tier: 'lite',
      quota: 1,
      inUse: 1,
    });
    expect(checkQuota(tiers, 'advanced', 4)).toBeNull();
    expect(checkQuota(tiers, 'advanced', 3, 3)?.detail).toMatch(
      /holds 3 of 5 token\(s\) allowed, so it cannot take 3 more tokens/,
    );
  });

  it('refuses a downgrade that would leave the entity over quota', () => {
    expect(checkDowngradeQuota(tiers, 'lite', 1)).toBeNull();
    expect(checkDowngradeQuota(tiers, 'lite', 3)?.detail).toMatch(/Remove 2 token/);
  });
});

describe('secret format', () => {
  it('has a prefix, ≥128 random bits and a checksum that catches typos', () => {
    const value = generateSecret('apiToken');
    expect(value).toMatch(/^tpt_[0-9A-Za-z]{36}$/);
    expect(isWellFormedSecret(value, 'apiToken')).toBe(true);
    expect(isWellFormedSecret(value, 'accessKey')).toBe(false);
    const typo = value.slice(0, 10) + (value[10] === 'a' ? 'b' : 'a') + value.slice(11);
    expect(isWellFormedSecret(typo, 'apiToken')).toBe(false);
    expect(30 * Math.log2(62)).toBeGreaterThan(128);
  });

  it('gives a hint that does not reveal the value and a scanner pattern that finds it', () => {
    const value = generateSecret('accessKey');
    expect(secretHint(value)).toBe(`tpk_…${value.slice(-4)}`);
    expect(`export KEY=${value};`.match(SECRET_PATTERN)).toEqual([value]);
    expect(new Set(Array.from({ length: 1000 }, () => generateSecret('apiToken'))).size).toBe(1000);
  });
});

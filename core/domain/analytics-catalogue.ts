/**
 * The analytics metrics and the tier each needs: a basic set for the lowest
 * tier, an extensive set on top for the next tier up (with the built-in table:
 * lite → basic, advanced → basic + extensive). The catalogue (server) and the
 * scope ceiling (permissions.ts) both judge from here.
 */
import type { Tier, TierTable } from './tiers.ts';

export const BASIC_METRICS = ['requests', 'bandwidth', 'errors', 'viewers', 'watch_time'] as const;
export const EXTENSIVE_METRICS = [
  'latency_p50',
  'latency_p95',
  'latency_p99',
  'cache_hit_ratio',
  'rebuffer_ratio',
  'startup_time',
  'bitrate_avg',
  'geo_countries',
] as const;

export const ANALYTICS_METRICS: readonly string[] = [...BASIC_METRICS, ...EXTENSIVE_METRICS];

export type MetricSet = 'core' | 'premium';

export function metricSet(name: string): MetricSet | undefined {
  if ((BASIC_METRICS as readonly string[]).includes(name)) return 'core';
  if ((EXTENSIVE_METRICS as readonly string[]).includes(name)) return 'premium';
  return undefined;
}

/** The lowest tier that includes a set: the first tier for core, the second for premium. */
export function tierOfSet(tiers: TierTable, set: MetricSet): Tier {
  const basic = tiers.tiers[0] as Tier;
  return set === 'core' ? basic : (tiers.tiers[1] ?? basic);
}

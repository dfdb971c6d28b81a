/**
 * The analytics catalogue: the consumer of API tokens. A basic set of metrics
 * for the lowest tier, an extensive set on top for the next tier up (with the
 * built-in table: lite → basic, advanced → basic + extensive; the sets are in
 * core/domain/analytics-catalogue.ts). Points are
 * synthetic but deterministic: the same (metric, entity, time) always gives the
 * same value, so clients and tests can compare runs.
 */
import {
  BASIC_METRICS,
  EXTENSIVE_METRICS,
  tierOfSet,
} from '../../core/domain/analytics-catalogue.ts';
import { scopesAllow } from '../../core/domain/permissions.ts';
import type { TierTable } from '../../core/domain/tiers.ts';

/** Typical magnitude of each metric (unit implied by the name). */
const BASE: Record<string, number> = {
  requests: 12_000,
  bandwidth: 3.5e9,
  errors: 40,
  viewers: 800,
  watch_time: 52_000,
  latency_p50: 38,
  latency_p95: 120,
  latency_p99: 260,
  cache_hit_ratio: 0.93,
  rebuffer_ratio: 0.012,
  startup_time: 850,
  bitrate_avg: 4.2e6,
  geo_countries: 35,
};

const RATIOS = new Set(['cache_hit_ratio', 'rebuffer_ratio']);
const COUNTS = new Set(['requests', 'errors', 'viewers', 'geo_countries']);

export type MetricDef = { name: string; tier: string; rank: number };

export class MetricCatalog {
  readonly #tiers: TierTable;
  readonly #metrics: Map<string, MetricDef>;

  constructor(tiers: TierTable) {
    this.#tiers = tiers;
    const basicTier = tierOfSet(tiers, 'core');
    const extensiveTier = tierOfSet(tiers, 'premium');
    this.#metrics = new Map();
    for (const name of BASIC_METRICS) {
      this.#metrics.set(name, { name, tier: basicTier.name, rank: basicTier.rank });
    }
    for (const name of EXTENSIVE_METRICS) {
      this.#metrics.set(name, { name, tier: extensiveTier.name, rank: extensiveTier.rank });
    }
  }

  get(name: string): MetricDef | undefined {
    return this.#metrics.get(name);
  }

  /** The metrics a token of this tier and these scopes may read. */
  readableBy(tier: string, scopes: readonly string[]): { name: string; tier: string }[] {
    const rank = this.#tiers.find(tier)?.rank ?? Number.NEGATIVE_INFINITY;
    const out: { name: string; tier: string }[] = [];
    for (const m of this.#metrics.values()) {
      if (m.rank <= rank && scopesAllow(scopes, m.name)) out.push({ name: m.name, tier: m.tier });
    }
    return out;
  }

  canRead(tier: string, metric: MetricDef): boolean {
    return (this.#tiers.find(tier)?.rank ?? Number.NEGATIVE_INFINITY) >= metric.rank;
  }
}

const STEPS_S = [60, 300, 900, 3600, 6 * 3600, 86_400];
export const MAX_POINTS = 500;
export const MAX_RANGE_MS = 400 * 86_400_000;

/** Points between from and to (inclusive), on the finest step that gives at most MAX_POINTS. */
export function seriesPoints(
  name: string,
  entityId: string,
  fromMs: number,
  toMs: number,
): { t: string; v: number }[] {
  const points: { t: string; v: number }[] = [];
  forEachPoint(name, entityId, fromMs, toMs, (t, v) => {
    points.push({ t, v });
  });
  return points;
}

/**
 * The response body of a series, `{"name":…,"points":[{"t":…,"v":…},…]}`, built
 * as one string: the hot path then allocates no per-point objects for
 * JSON.stringify to walk (the same JSON as `seriesPoints`, byte for byte).
 */
export function seriesJson(name: string, entityId: string, fromMs: number, toMs: number): string {
  let out = `{"name":${JSON.stringify(name)},"points":[`;
  let first = true;
  forEachPoint(name, entityId, fromMs, toMs, (t, v) => {
    out += `${first ? '' : ','}{"t":"${t}","v":${v}}`;
    first = false;
  });
  return `${out}]}`;
}

function forEachPoint(
  name: string,
  entityId: string,
  fromMs: number,
  toMs: number,
  emit: (t: string, v: number) => void,
): void {
  const span = (toMs - fromMs) / 1000;
  const step = STEPS_S.find((s) => span / s <= MAX_POINTS) ?? 86_400;
  const stepMs = step * 1000;
  const seed = hashString(`${name}\u0000${entityId}`);
  const base = BASE[name] ?? 100;
  // Steps are whole minutes: the date part is formatted once per day, the time
  // of day from tables.
  let day = Number.NaN;
  let dayPrefix = '';
  for (let t = Math.ceil(fromMs / stepMs) * stepMs; t <= toMs; t += stepMs) {
    const d = Math.floor(t / 86_400_000);
    if (d !== day) {
      day = d;
      dayPrefix = isoTime(d * 86_400_000).slice(0, 11);
    }
    const minuteOfDay = Math.floor((t - d * 86_400_000) / 60_000);
    const time = `${dayPrefix}${TWO_DIGITS[Math.floor(minuteOfDay / 60)]}:${TWO_DIGITS[minuteOfDay % 60]}:00.000Z`;
    emit(time, pointValue(name, base, seed, t, step));
  }
}

const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => (i < 10 ? `0${i}` : String(i)));

function pointValue(name: string, base: number, seed: number, t: number, step: number): number {
  const hourOfDay = (t / 3_600_000) % 24;
  const daily = 1 + 0.3 * Math.sin(((hourOfDay - 8) / 24) * 2 * Math.PI);
  const noise = 0.85 + 0.3 * unit(seed, Math.floor(t / 1000));
  if (RATIOS.has(name)) return round(Math.min(1, base * noise), 4);
  const v = base * daily * noise * (COUNTS.has(name) && name !== 'geo_countries' ? step / 300 : 1);
  return COUNTS.has(name) ? Math.round(v) : round(v, 2);
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

/**
 * `new Date(ms).toISOString()` for whole seconds, by integer arithmetic (civil
 * date from days since the epoch, H. Hinnant's algorithm): about ten times
 * faster, and a series formats hundreds of timestamps per request.
 */
export function isoTime(ms: number): string {
  const days = Math.floor(ms / 86_400_000);
  const secondsOfDay = Math.floor((ms - days * 86_400_000) / 1000);
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 1000 || year > 9999) return new Date(ms).toISOString();
  const h = Math.floor(secondsOfDay / 3600);
  const m = Math.floor((secondsOfDay % 3600) / 60);
  const sec = secondsOfDay % 60;
  return `${year}-${pad2(month)}-${pad2(day)}T${pad2(h)}:${pad2(m)}:${pad2(sec)}.000Z`;
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A deterministic number in [0, 1) from a seed and a time (integer mixing). */
function unit(seed: number, t: number): number {
  let x =
    (seed ^ Math.imul(t | 0, 0x9e3779b1) ^ Math.imul(Math.floor(t / 2 ** 32), 0x85ebca6b)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  x ^= x >>> 16;
  return (x >>> 0) / 2 ** 32;
}

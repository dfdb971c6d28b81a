/**
 * Token permissions of README "Token permissions and limits", pure: the scope grammar and what a scope lets
 * a token read, which scopes lie above a tier (the ceiling itself is in
 * rules.ts), the rules between fields (a publishable token needs origins and cannot sign),
 * origin patterns and usage periods. The server enforces them; the operator and
 * the provider call the same functions for early, identical messages.
 */
import { ANALYTICS_METRICS, type MetricSet, metricSet, tierOfSet } from './analytics-catalogue.ts';
import type { TierTable } from './tiers.ts';

export type TokenType = 'secret' | 'publishable';

export const SCOPE_ALL = 'metrics:read';
export const SCOPE_CORE = 'metrics:core:read';
export const SCOPE_PREMIUM = 'metrics:premium:read';

/** README "Token permissions and limits" defaults: secret tokens read everything their tier includes; publishable the basic set. */
export function defaultScopes(type: TokenType): string[] {
  return type === 'publishable' ? [SCOPE_CORE] : [SCOPE_ALL];
}

const ONE_METRIC = /^metric:([a-z0-9_.-]{1,64}):read$/;

/** Every scope the platform accepts: the three sets and one per metric of the catalogue. */
export const SCOPES: readonly [string, ...string[]] = [
  SCOPE_ALL,
  SCOPE_CORE,
  SCOPE_PREMIUM,
  ...ANALYTICS_METRICS.map((name) => `metric:${name}:read`),
];

/** Why a scope string is not one of the platform's, or null when it is. */
export function scopeProblem(scope: string): string | null {
  if (scope === SCOPE_ALL || scope === SCOPE_CORE || scope === SCOPE_PREMIUM) return null;
  const one = ONE_METRIC.exec(scope);
  if (one?.[1] && ANALYTICS_METRICS.includes(one[1])) return null;
  if (one) return `no metric named "${one[1]}"; see GET /v1/analytics/metrics`;
  return `unknown scope "${scope}"; use ${SCOPE_ALL}, ${SCOPE_CORE}, ${SCOPE_PREMIUM} or metric:<name>:read`;
}

/** The metric set a scope needs from the tier: premium scopes need the extensive set. */
function setNeeded(scope: string): MetricSet | null {
  if (scope === SCOPE_PREMIUM) return 'premium';
  const name = ONE_METRIC.exec(scope)?.[1];
  return name !== undefined && metricSet(name) === 'premium' ? 'premium' : null;
}

/** Whether `scopes` include the metric (the tier is judged separately). */
export function scopesAllow(scopes: readonly string[], metric: string): boolean {
  const set = metricSet(metric);
  for (const scope of scopes) {
    if (scope === SCOPE_ALL) return true;
    if (scope === SCOPE_CORE && set === 'core') return true;
    if (scope === SCOPE_PREMIUM && set === 'premium') return true;
    if (scope === `metric:${metric}:read`) return true;
  }
  return false;
}

/** Scopes that need a set the tier does not include. */
export function scopesAboveTier(
  tiers: TierTable,
  tier: string,
  scopes: readonly string[],
): string[] {
  const rank = tiers.get(tier).rank;
  return scopes.filter((s) => {
    const set = setNeeded(s);
    return set !== null && tierOfSet(tiers, set).rank > rank;
  });
}

/** The settable permission fields of a token, in the order they are reported. */
export const PERMISSION_FIELDS = [
  'type',
  'scopes',
  'allowedOrigins',
  'allowedIps',
  'rateLimit',
  'usageLimit',
  'requireSignedRequests',
] as const;

export type PermissionSettings = {
  type: TokenType;
  scopes: string[];
  allowedOrigins: string[];
  allowedIps: string[];
  rateLimit: { requests: number; perSeconds: number } | null;
  usageLimit: { limit: number; period: UsagePeriod } | null;
  requireSignedRequests: boolean;
};

/** README "Token permissions and limits" defaults for every field left out (scopes by type). */
export function permissionsWithDefaults(p: Partial<PermissionSettings>): PermissionSettings {
  const type = p.type ?? 'secret';
  return {
    type,
    scopes: p.scopes ?? defaultScopes(type),
    allowedOrigins: p.allowedOrigins ?? [],
    allowedIps: p.allowedIps ?? [],
    rateLimit: p.rateLimit ?? null,
    usageLimit: p.usageLimit ?? null,
    requireSignedRequests: p.requireSignedRequests ?? false,
  };
}

/** The permission fields whose combination is judged together. */
export type PermissionShape = {
  type: TokenType;
  allowedOrigins: readonly string[];
  requireSignedRequests: boolean;
};

/** Rules between fields: a publishable token is for web pages (origins) and never signs. */
export function permissionProblems(p: PermissionShape): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  if (p.type === 'publishable' && p.allowedOrigins.length === 0) {
    problems.push({
      path: 'allowedOrigins',
      message: 'a publishable token needs at least one allowed origin (the web pages that use it)',
    });
  }
  if (p.type === 'publishable' && p.requireSignedRequests) {
    problems.push({
      path: 'requireSignedRequests',
      message: 'a publishable token cannot require signed requests; use a secret token for that',
    });
  }
  return problems;
}

// ------------------------------------------------------------------ origins

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const PORT = '(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])';

/**
 * Exactly the allowed-origin entries the platform accepts — `https://host[:port]` (port at
 * most 65535) or `https://*.domain` (two labels at least, no port); lower-case,
 * as browsers send them — so that the OpenAPI document and the CRD say it too.
 */
export const ORIGIN_PATTERN = new RegExp(
  `^https://(?:(?:${LABEL}\\.)*${LABEL}(?::${PORT})?|\\*\\.(?:${LABEL}\\.)+${LABEL})$`,
);

/** The shape without those limits: what `originProblem` takes apart to say which one failed. */
const ORIGIN_SHAPE = new RegExp(`^https://(\\*\\.)?((?:${LABEL}\\.)*${LABEL})(:\\d{1,5})?$`);

/** Why an allowed-origin entry is refused, or null. */
export function originProblem(entry: string): string | null {
  if (ORIGIN_PATTERN.test(entry)) return null;
  const m = ORIGIN_SHAPE.exec(entry);
  if (m?.[1] && m[3]) return 'a wildcard origin takes no port';
  if (m?.[1] && !m[2]?.includes('.')) return 'a wildcard needs a domain of at least two labels';
  if (m?.[3]) return 'port must be at most 65535';
  return 'must be https://host[:port] or https://*.domain (lower-case, no path or trailing slash)';
}

/**
 * Whether a request's `Origin` matches one entry: exact, or below the
 * wildcard's domain (`https://*.example.com` matches `https://a.example.com`
 * and `https://a.b.example.com`, not `https://example.com`). The default port
 * 443 is the same as none.
 */
export function originMatches(entry: string, origin: string): boolean {
  const o = origin.toLowerCase().replace(/:443$/, '');
  if (!entry.startsWith('https://*.')) return entry.replace(/:443$/, '') === o;
  if (!o.startsWith('https://') || o.slice(8).includes(':')) return false;
  return o.endsWith(entry.slice(9)) && o.length > entry.length - 1;
}

export function originAllowed(allowed: readonly string[], origin: string | undefined): boolean {
  if (allowed.length === 0) return true;
  return origin !== undefined && allowed.some((entry) => originMatches(entry, origin));
}

// --------------------------------------------------------------- usage periods

export type UsagePeriod = 'day' | 'month' | 'total';

/** The key of the period `nowMs` falls in (UTC) and when it ends (null: never). */
export function usageWindow(
  period: UsagePeriod,
  nowMs: number,
): { key: string; resetsAt: string | null } {
  const d = new Date(nowMs);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  if (period === 'total') return { key: 'total', resetsAt: null };
  if (period === 'month') {
    return {
      key: `month:${d.toISOString().slice(0, 7)}`,
      resetsAt: new Date(Date.UTC(y, m + 1, 1)).toISOString(),
    };
  }
  return {
    key: `day:${d.toISOString().slice(0, 10)}`,
    resetsAt: new Date(Date.UTC(y, m, d.getUTCDate() + 1)).toISOString(),
  };
}

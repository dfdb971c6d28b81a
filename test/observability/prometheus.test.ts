// A real Prometheus scraping a real platform (on PostgreSQL, so its revocation
// listener runs) and a real operator (on the shared control plane), with the
// rule file loaded. Every alert expression and every dashboard query is
// evaluated through Prometheus's HTTP API: each succeeds, and every metric it
// names exists there (a series, or at least the metric's HELP/TYPE when no
// event has happened yet, such as a webhook attempt). Objects made to fit some
// alerts bring them to pending, from the real series.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import type { RunningOperator } from '../../operator/operator.ts';
import { startServer } from '../../platform/main.ts';
import { repoRoot } from '../engines/engines.ts';
import { createTestNamespace } from '../harness/kube.ts';
import { type PostgresCluster, startPostgres } from '../harness/postgres.ts';
import { type RunningPrometheus, startPrometheus } from '../harness/prometheus.ts';
import { waitFor } from '../harness/wait.ts';
import { installCrds, installRbac, resources, startTestOperator } from '../operator/helpers.ts';

const rulesFile = join(repoRoot, 'deploy/prometheus/rules.yaml');
type Rule = { alert: string; expr: string };
const rules = (
  YAML.parse(readFileSync(rulesFile, 'utf8')) as { groups: { rules: Rule[] }[] }
).groups.flatMap((g) => g.rules);

type Panel = { title: string; targets?: { expr: string }[]; panels?: Panel[] };
type Dashboard = {
  panels: Panel[];
  templating: { list: { name: string; definition?: string }[] };
};
const dashboards = ['platform', 'operator'].map((name) => ({
  name,
  ...(JSON.parse(readFileSync(join(repoRoot, `deploy/grafana/${name}.json`), 'utf8')) as Dashboard),
}));
const panelsOf = (panels: Panel[]): Panel[] =>
  panels.flatMap((p) => [p, ...panelsOf(p.panels ?? [])]);
/** Grafana's variables as a dashboard user leaves them: every job, the default rate window. */
const asPromQL = (expr: string) =>
  expr.replaceAll('$__rate_interval', '30s').replaceAll('$job', '.+');

let pg: PostgresCluster;
let platform: Awaited<ReturnType<typeof startServer>>;
let operator: RunningOperator;
let prometheus: RunningPrometheus;

beforeAll(async () => {
  pg = await startPostgres();
  platform = await startServer({
    port: 0,
    host: '127.0.0.1',
    databaseUrl: await pg.createDatabase(),
    logger: false,
    env: {},
  });
  await installCrds();
  const namespace = await createTestNamespace('prom');
  const leaseNamespace = await createTestNamespace('prom-lease');
  await installRbac(leaseNamespace);
  operator = await startTestOperator({
    platform,
    leaseNamespace,
    watchNamespace: namespace,
    metricsPort: 0,
  });

  // Objects for the per-object series: a rotating token, a token with a fixed near expiry,
  // a token at 90 % of its usage limit, and one that cannot become Ready.
  const r = resources(namespace);
  await r.entity('acme', { kind: 'Reseller', tier: 'Advanced' });
  const inThreeDays = new Date(Date.now() + 3 * 86_400_000).toISOString();
  await r.apiToken('rotating', { entityRef: { name: 'acme' }, lifetime: '720h' });
  await r.apiToken('fixed', { entityRef: { name: 'acme' }, expiresAt: inThreeDays });
  await r.apiToken('limited', {
    entityRef: { name: 'acme' },
    usageLimit: { limit: 10, period: 'Day' },
  });
  await r.apiToken('orphan', { entityRef: { name: 'missing' } });
  for (const name of ['rotating', 'fixed', 'limited']) await r.readyToken(name);
  const value = r.secretValue(await r.secret('limited'));
  for (let i = 0; i < 9; i++) {
    const res = await fetch(`${platform.url}/v1/analytics/metrics/requests`, {
      headers: { authorization: `Bearer ${value}` },
    });
    expect(res.status).toBe(200);
  }

  prometheus = await startPrometheus({
    jobs: {
      'tokenplane-platform': [new URL(platform.url).host],
      'tokenplane-operator': [`127.0.0.1:${operator.metricsPort}`],
    },
    ruleFiles: [rulesFile],
  });
  // Both targets scraped, with the operator's per-object series in.
  await waitFor('both targets up', async () => {
    const { activeTargets } = await prometheus.api<{
      activeTargets: { health: string; lastScrape: string }[];
    }>('targets');
    return activeTargets.length === 2 && activeTargets.every((t) => t.health === 'up');
  });
  await waitFor('the usage share of ApiToken limited', async () => {
    const result = await instant('tokenplane_operator_token_usage_ratio{name="limited"} >= 0.9');
    return result.length === 1;
  });
}, 240_000);

afterAll(async () => {
  await prometheus?.stop();
  await operator?.stop();
  await platform?.close();
  await pg?.stop();
});

async function instant(query: string) {
  const data = await prometheus.api<{ result: unknown[] }>('query', { query }, 'POST');
  return data.result;
}

/** Names of the metrics a query selects, from Prometheus's own parse of it. */
async function metricNames(query: string): Promise<string[]> {
  const ast = await prometheus.api<unknown>('parse_query', { query }, 'POST');
  const names = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      const n = node as { type?: string; name?: string };
      if ((n.type === 'vectorSelector' || n.type === 'matrixSelector') && n.name) names.add(n.name);
      Object.values(node).forEach(walk);
    }
  };
  walk(ast);
  return [...names];
}

/** Metrics Prometheus knows: with a series now, or announced by a target's HELP/TYPE. */
async function knownMetrics(): Promise<(name: string) => boolean> {
  const withSeries = new Set(await prometheus.api<string[]>('label/__name__/values'));
  const metadata = await prometheus.api<Record<string, { type: string }[]>>('metadata');
  return (name) => {
    if (withSeries.has(name) || name in metadata) return true;
    const base = name.replace(/_(bucket|sum|count)$/, '');
    return ['histogram', 'summary'].includes(metadata[base]?.[0]?.type ?? '');
  };
}

describe('a real Prometheus on the platform and the operator', () => {
  it('loads every rule and evaluates it without error; every alert expression answers through the query API and names only metrics that exist', async () => {
    await waitFor('every rule evaluated', async () => {
      const { groups } = await prometheus.api<{
        groups: { rules: { name: string; health: string; lastEvaluation: string }[] }[];
      }>('rules');
      const loaded = groups.flatMap((g) => g.rules);
      return (
        loaded.length === rules.length &&
        loaded.every((r) => !r.lastEvaluation.startsWith('0001')) &&
        loaded
      );
    });
    const { groups } = await prometheus.api<{
      groups: { rules: { name: string; health: string; lastError?: string }[] }[];
    }>('rules');
    const byName = (a: { alert: string }, b: { alert: string }) => a.alert.localeCompare(b.alert);
    expect(
      groups
        .flatMap((g) => g.rules)
        .map((r) => ({ alert: r.name, health: r.health, error: r.lastError ?? '' }))
        .sort(byName),
    ).toEqual(rules.map((r) => ({ alert: r.alert, health: 'ok', error: '' })).sort(byName));

    const known = await knownMetrics();
    expect(known('tokenplane_no_such_metric_total')).toBe(false);
    for (const rule of rules) {
      await instant(rule.expr);
      const names = await metricNames(rule.expr);
      expect(names.length, rule.alert).toBeGreaterThan(0);
      expect(
        names.filter((n) => !known(n)),
        `${rule.alert} names metrics that do not exist`,
      ).toEqual([]);
    }
  });

  it('the alerts whose conditions the objects meet are pending, from the real series', async () => {
    const pending = await waitFor('the alerts pending', async () => {
      const { alerts } = await prometheus.api<{
        alerts: { labels: Record<string, string>; state: string }[];
      }>('alerts');
      const found = alerts.map((a) => `${a.labels.alertname} ${a.labels.name ?? ''} ${a.state}`);
      return (
        [
          'TokenplaneTokenExpiringWithoutRotation fixed pending',
          'TokenplaneResourceNotReady orphan pending',
          'TokenplaneTokenNearUsageLimit limited pending',
        ].every((a) => found.includes(a)) && found
      );
    });
    // The rotating token has a renewal time, so it is not among them; the listener is up.
    expect(pending.filter((a) => a.includes('rotating'))).toEqual([]);
    expect(pending.filter((a) => a.startsWith('TokenplaneRevocationListenerDown'))).toEqual([]);
  });

  it('every dashboard query answers as a range query and names only metrics that exist; every job variable finds a job', async () => {
    const known = await knownMetrics();
    const end = Date.now() / 1000;
    for (const dashboard of dashboards) {
      const queries = panelsOf(dashboard.panels).flatMap((p) =>
        (p.targets ?? []).map((t) => ({ panel: p.title, expr: asPromQL(t.expr) })),
      );
      expect(queries.length, dashboard.name).toBeGreaterThan(10);
      for (const { panel, expr } of queries) {
        await prometheus.api(
          'query_range',
          {
            query: expr,
            start: String(end - 120),
            end: String(end),
            step: '5',
          },
          'POST',
        );
        const names = await metricNames(expr);
        expect(names.length, `${dashboard.name}: ${panel}`).toBeGreaterThan(0);
        expect(
          names.filter((n) => !known(n)),
          `${dashboard.name}: ${panel}`,
        ).toEqual([]);
      }
      for (const variable of dashboard.templating.list.filter((v) => v.definition)) {
        const [, metric, label] =
          /^label_values\((\w+), (\w+)\)$/.exec(variable.definition ?? '') ?? [];
        expect(metric, `${dashboard.name}: $${variable.name}`).toBeDefined();
        const values = await prometheus.api<string[]>(`label/${label}/values`, {
          'match[]': metric as string,
        });
        expect(values, `${dashboard.name}: $${variable.name}`).toEqual([
          `tokenplane-${dashboard.name}`,
        ]);
      }
    }
  });
});

// The monitoring switches of both charts (operator and platform) through the real
// helm: off by default; on, a ServiceMonitor that selects the chart's metrics
// Service, a PrometheusRule holding exactly the chosen groups of the one rule
// file (and which promtool accepts as rendered), and a ConfigMap with the
// Grafana dashboards of deploy/grafana. And the tracing setting: the OTLP
// endpoint and protocol in the container's environment, or nothing.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type {
  KubernetesObject,
  V1ConfigMap,
  V1Deployment,
  V1Service,
} from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { repoRoot, requireEngines } from '../engines/engines.ts';
import { Helm, rendered } from '../harness/helm.ts';

/** What differs between the charts' monitoring objects. */
const CHARTS = [
  {
    name: 'operator',
    chart: join(repoRoot, 'deploy/helm/tokenplane-operator'),
    service: 'tp-tokenplane-operator-metrics',
    // The per-object series keep their own `namespace` label (the ApiToken's).
    endpoint: { port: 'metrics', honorLabels: true },
    group: 'tokenplane-operator',
    dashboards: { names: ['operator', 'platform'] },
    configMap: 'tp-tokenplane-operator-dashboards',
  },
  {
    name: 'platform',
    chart: join(repoRoot, 'deploy/helm/tokenplane'),
    service: 'tp-tokenplane',
    endpoint: { port: 'http' },
    group: 'tokenplane-platform',
    dashboards: {},
    configMap: 'tp-tokenplane-dashboards',
  },
] as const;

const helm = new Helm();
afterAll(() => helm.close());

const ruleGroups = (
  YAML.parse(readFileSync(join(repoRoot, 'deploy/prometheus/rules.yaml'), 'utf8')) as {
    groups: { name: string }[];
  }
).groups;

async function render(chart: string, values: object): Promise<KubernetesObject[]> {
  const args = ['template', 'tp', chart, '--namespace', 'monitoring-test'];
  const { stdout } = await helm.run(...args, '-f', helm.valuesFile(values));
  return rendered(stdout);
}
const ofKind = <T extends KubernetesObject>(objects: KubernetesObject[], kind: string) =>
  objects.filter((o): o is T => o.kind === kind);

type ServiceMonitor = KubernetesObject & {
  spec: {
    selector: { matchLabels: Record<string, string> };
    namespaceSelector: { matchNames: string[] };
    endpoints: { port: string; path: string; interval: string; honorLabels: boolean }[];
  };
};
type PrometheusRule = KubernetesObject & { spec: { groups: { name: string }[] } };

describe.each(CHARTS)('the $name chart: metrics switches', (c) => {
  it('renders no ServiceMonitor, PrometheusRule or dashboards by default', async () => {
    const kinds = (await render(c.chart, {})).map((o) => `${o.kind}/${o.metadata?.name}`);
    expect(kinds.filter((k) => /ServiceMonitor|PrometheusRule|dashboards/.test(k))).toEqual([]);
  });

  it('with both switches on: a ServiceMonitor of the metrics Service and a PrometheusRule of its alerts', async () => {
    const objects = await render(c.chart, {
      metrics: {
        serviceMonitor: { enabled: true, labels: { release: 'kube-prometheus-stack' } },
        prometheusRule: { enabled: true, labels: { release: 'kube-prometheus-stack' } },
      },
    });
    const [monitor, ...moreMonitors] = ofKind<ServiceMonitor>(objects, 'ServiceMonitor');
    const [rule, ...moreRules] = ofKind<PrometheusRule>(objects, 'PrometheusRule');
    expect([moreMonitors, moreRules]).toEqual([[], []]);
    for (const o of [monitor, rule]) {
      expect(o?.apiVersion).toBe('monitoring.coreos.com/v1');
      expect(o?.metadata?.namespace).toBe('monitoring-test');
      expect(o?.metadata?.labels?.release).toBe('kube-prometheus-stack');
    }

    // The ServiceMonitor selects exactly the metrics Service, by its labels, port name and namespace.
    const services = ofKind<V1Service>(objects, 'Service');
    const selected = services.filter((s) =>
      Object.entries(monitor?.spec.selector.matchLabels ?? {}).every(
        ([k, v]) => s.metadata?.labels?.[k] === v,
      ),
    );
    expect(selected.map((s) => s.metadata?.name)).toEqual([c.service]);
    expect(selected[0]?.spec?.ports?.map((p) => p.name)).toContain(
      monitor?.spec.endpoints[0]?.port,
    );
    expect(monitor?.spec.namespaceSelector.matchNames).toEqual(['monitoring-test']);
    expect(monitor?.spec.endpoints).toEqual([
      { ...c.endpoint, path: '/metrics', interval: '30s', scrapeTimeout: '10s' },
    ]);

    // The PrometheusRule holds the chart's group of the rule file as it is, and promtool accepts it.
    expect(rule?.spec.groups).toEqual(ruleGroups.filter((g) => g.name === c.group));
    const asFile = join(helm.home, `rendered-rules-${c.name}.yaml`);
    writeFileSync(asFile, YAML.stringify(rule?.spec));
    const check = await promisify(execFile)(requireEngines('promtool').promtool, [
      'check',
      'rules',
      asFile,
    ]);
    expect(check.stdout).toContain('SUCCESS');
  });

  it("renders the other component's alerts too when asked, and refuses a group it does not have", async () => {
    const groups = ['tokenplane-operator', 'tokenplane-platform'];
    const objects = await render(c.chart, {
      metrics: { prometheusRule: { enabled: true, groups } },
    });
    expect(ofKind<PrometheusRule>(objects, 'PrometheusRule')[0]?.spec.groups).toEqual(ruleGroups);
    const values = helm.valuesFile({ metrics: { prometheusRule: { groups: ['tokenplane'] } } });
    expect(await helm.refusal('template', 'tp', c.chart, '-f', values)).toMatch(
      /metrics\.prometheusRule\.groups\.0|\/metrics\/prometheusRule\/groups\/0/,
    );
  });

  it('with dashboards on: a ConfigMap labelled grafana_dashboard holding the dashboards of deploy/grafana', async () => {
    const objects = await render(c.chart, {
      metrics: { dashboards: { enabled: true, ...c.dashboards } },
    });
    const [configMap] = ofKind<V1ConfigMap>(objects, 'ConfigMap').filter(
      (c) => c.metadata?.labels?.grafana_dashboard === '1',
    );
    expect(configMap?.metadata?.name).toBe(c.configMap);
    const names = 'names' in c.dashboards ? c.dashboards.names : ['platform'];
    expect(Object.keys(configMap?.data ?? {}).sort()).toEqual(
      names.map((n) => `tokenplane-${n}.json`).sort(),
    );
    for (const name of names) {
      expect(JSON.parse(configMap?.data?.[`tokenplane-${name}.json`] ?? '')).toEqual(
        JSON.parse(readFileSync(join(repoRoot, `deploy/grafana/${name}.json`), 'utf8')),
      );
    }
  });
});

describe.each(CHARTS)('the $name chart: tracing', (c) => {
  const otelEnv = async (values: object) => {
    const [deployment] = ofKind<V1Deployment>(await render(c.chart, values), 'Deployment');
    const env = deployment?.spec?.template.spec?.containers[0]?.env ?? [];
    return env.filter((e) => e.name.startsWith('OTEL_'));
  };

  it('sets no OTEL_ variable by default, so the process does not load the SDK', async () => {
    expect(await otelEnv({})).toEqual([]);
  });

  it('renders tracing.otlpEndpoint and tracing.protocol as the SDK reads them', async () => {
    const endpoint = 'http://otel-collector.monitoring.svc:4318';
    expect(await otelEnv({ tracing: { otlpEndpoint: endpoint } })).toEqual([
      { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: endpoint },
      { name: 'OTEL_EXPORTER_OTLP_PROTOCOL', value: 'http/protobuf' },
    ]);
    expect(await otelEnv({ tracing: { otlpEndpoint: endpoint, protocol: 'http/json' } })).toEqual([
      { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: endpoint },
      { name: 'OTEL_EXPORTER_OTLP_PROTOCOL', value: 'http/json' },
    ]);
  });

  it('refuses an endpoint without its scheme and a protocol the SDK is not given', async () => {
    for (const [tracing, path] of [
      [{ otlpEndpoint: 'otel-collector:4318' }, /tracing\/otlpEndpoint/],
      [{ otlpEndpoint: 'http://otel-collector:4317', protocol: 'grpc' }, /tracing\/protocol/],
    ] as const) {
      const values = helm.valuesFile({ tracing });
      expect(await helm.refusal('template', 'tp', c.chart, '-f', values)).toMatch(path);
    }
  });
});

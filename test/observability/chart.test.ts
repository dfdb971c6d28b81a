// The operator chart's monitoring switches through the real helm: off by default;
// on, a ServiceMonitor that selects the chart's metrics Service, a PrometheusRule
// holding exactly the chosen groups of the rule file (and which promtool accepts
// as rendered), and a ConfigMap with the Grafana dashboards of deploy/grafana.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { KubernetesObject, V1ConfigMap, V1Service } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { repoRoot, requireEngines } from '../engines/engines.ts';
import { Helm, rendered } from '../harness/helm.ts';

const chart = join(repoRoot, 'deploy/helm/tokenplane-operator');
const helm = new Helm();
afterAll(() => helm.close());

const ruleGroups = (
  YAML.parse(readFileSync(join(repoRoot, 'deploy/prometheus/rules.yaml'), 'utf8')) as {
    groups: { name: string }[];
  }
).groups;

async function render(values: object): Promise<KubernetesObject[]> {
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

describe('the operator chart: metrics switches', () => {
  it('renders no ServiceMonitor, PrometheusRule or dashboards by default', async () => {
    const kinds = (await render({})).map((o) => `${o.kind}/${o.metadata?.name}`);
    expect(kinds.filter((k) => /ServiceMonitor|PrometheusRule|dashboards/.test(k))).toEqual([]);
  });

  it('with both switches on: a ServiceMonitor of the metrics Service and a PrometheusRule of the operator alerts', async () => {
    const objects = await render({
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
    expect(selected.map((s) => s.metadata?.name)).toEqual(['tp-tokenplane-operator-metrics']);
    expect(selected[0]?.spec?.ports?.map((p) => p.name)).toContain(
      monitor?.spec.endpoints[0]?.port,
    );
    expect(monitor?.spec.namespaceSelector.matchNames).toEqual(['monitoring-test']);
    expect(monitor?.spec.endpoints).toEqual([
      {
        port: 'metrics',
        path: '/metrics',
        interval: '30s',
        scrapeTimeout: '10s',
        honorLabels: true,
      },
    ]);

    // The PrometheusRule holds the operator group of the rule file as it is, and promtool accepts it.
    expect(rule?.spec.groups).toEqual(ruleGroups.filter((g) => g.name === 'tokenplane-operator'));
    const asFile = join(helm.home, 'rendered-rules.yaml');
    writeFileSync(asFile, YAML.stringify(rule?.spec));
    const check = await promisify(execFile)(requireEngines('promtool').promtool, [
      'check',
      'rules',
      asFile,
    ]);
    expect(check.stdout).toContain('SUCCESS');
  });

  it("renders the platform's alerts too when asked, and refuses a group it does not have", async () => {
    const groups = ['tokenplane-operator', 'tokenplane-platform'];
    const objects = await render({ metrics: { prometheusRule: { enabled: true, groups } } });
    expect(ofKind<PrometheusRule>(objects, 'PrometheusRule')[0]?.spec.groups).toEqual(ruleGroups);
    const values = helm.valuesFile({ metrics: { prometheusRule: { groups: ['tokenplane'] } } });
    expect(await helm.refusal('template', 'tp', chart, '-f', values)).toMatch(
      /metrics\.prometheusRule\.groups\.0|\/metrics\/prometheusRule\/groups\/0/,
    );
  });

  it('with dashboards on: a ConfigMap labelled grafana_dashboard holding the dashboards of deploy/grafana', async () => {
    const objects = await render({
      metrics: { dashboards: { enabled: true, names: ['operator', 'platform'] } },
    });
    const [configMap] = ofKind<V1ConfigMap>(objects, 'ConfigMap').filter(
      (c) => c.metadata?.labels?.grafana_dashboard === '1',
    );
    expect(configMap?.metadata?.name).toBe('tp-tokenplane-operator-dashboards');
    const dashboard = (name: string) =>
      JSON.parse(readFileSync(join(repoRoot, `deploy/grafana/${name}.json`), 'utf8'));
    expect(JSON.parse(configMap?.data?.['tokenplane-operator.json'] ?? '')).toEqual(
      dashboard('operator'),
    );
    expect(JSON.parse(configMap?.data?.['tokenplane-platform.json'] ?? '')).toEqual(
      dashboard('platform'),
    );
  });
});

// One reconcile is one trace (README "Observability"): `tokenplane operator` and
// `tokenplane serve` as real processes, each exporting to a real Jaeger. The
// operator's reconcile span is the trace's root, its typed-client calls are the
// parents of the platform's server spans (W3C traceparent), and neither the
// operator's key nor the token value it delivered appears in the trace.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningCli, runCli } from '../harness/cli.ts';
import type { JaegerSpan } from '../harness/jaeger.ts';
import { freePort } from '../harness/ports.ts';
import { startTracedPlatform, type TracedPlatform } from '../harness/traced-platform.ts';
import {
  installCrds,
  namespaceWithRbac,
  operatorKubeconfig,
  resources,
} from '../operator/helpers.ts';

let traced: TracedPlatform;
let operator: RunningCli;
let namespace: string;

beforeAll(async () => {
  traced = await startTracedPlatform();
  await installCrds();
  namespace = await namespaceWithRbac('traces');
  const kubeconfig = (await operatorKubeconfig()).path;
  operator = runCli(
    [
      'operator',
      '--kubeconfig',
      kubeconfig,
      '--namespace',
      namespace,
      '--watch-namespace',
      namespace,
      '--metrics-port',
      String(await freePort()),
    ],
    {
      tty: false,
      env: {
        ...traced.exporting,
        TOKENPLANE_ENDPOINT: traced.url,
        TOKENPLANE_API_KEY: traced.adminKey,
      },
    },
  );
}, 180_000);

afterAll(async () => {
  operator?.interrupt();
  await operator?.done;
  await traced?.stop();
});

it('an ApiToken reconcile → its client calls → the platform, parent by parent, in one trace', async () => {
  const { jaeger, adminKey } = traced;
  const r = resources(namespace);
  await r.entity('acme', { kind: 'Customer', tier: 'Lite', defaultToken: false });
  await r.apiToken('key', { entityRef: { name: 'acme' } });
  await r.readyToken('key');
  const value = r.secretValue(await r.secret('key'));
  expect(value).toBeTruthy();

  const creates = (s: JaegerSpan) => s.operationName === 'POST /v1/entities/:id/tokens';
  // Once the reconcile's span is in too: it ends, and is exported, after its calls.
  const trace = await jaeger.traceOf(
    'tokenplane-operator',
    (t) => t.spans.some(creates) && t.spans.some((s) => s.operationName === 'reconcile ApiToken'),
  );
  const service = (s: JaegerSpan) => trace.processes[s.processID]?.serviceName;
  const byId = new Map(trace.spans.map((s) => [s.spanID, s]));
  const parent = (s: JaegerSpan | undefined) =>
    s && byId.get(s.references.find((ref) => ref.refType === 'CHILD_OF')?.spanID ?? '');

  const server = trace.spans.find(creates);
  expect(server && service(server)).toBe('tokenplane-platform');
  const client = parent(server);
  expect(client && service(client)).toBe('tokenplane-operator');
  const reconcile = parent(client);
  expect(reconcile?.operationName).toBe('reconcile ApiToken');
  expect(reconcile?.tags).toEqual(
    expect.arrayContaining([
      { key: 'namespace', type: 'string', value: namespace },
      { key: 'name', type: 'string', value: 'key' },
    ]),
  );
  // The reconcile is the root: nothing above it, every span of the trace under it.
  expect(reconcile?.references).toEqual([]);
  for (const span of trace.spans) {
    let up: JaegerSpan | undefined = span;
    while (up && up !== reconcile) up = parent(up);
    expect(up, span.operationName).toBe(reconcile);
  }
  const text = JSON.stringify(trace);
  expect(text).not.toContain(adminKey);
  expect(text).not.toContain(value);
});

// One `pulumi up` is one trace (README "Observability"): the real CLI run with
// `--otel-traces` at a real Jaeger hands the plugin its receiver and each
// call's traceparent; the plugin's span per operation is the parent of the
// typed client's span, which is the parent of `tokenplane serve`'s server
// span — three processes, one trace, no key in it.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { JaegerSpan } from '../../harness/jaeger.ts';
import { type PluginTestEnv, pluginTestEnv } from '../../harness/plugin.ts';
import { startTracedPlatform, type TracedPlatform } from '../../harness/traced-platform.ts';

const PROGRAM = `name: traced
runtime: yaml
resources:
  shop:
    type: tokenplane:index:Entity
    properties:
      displayName: Traced shop
      kind: customer
      tier: lite
      defaultToken: false
`;

let traced: TracedPlatform;
let env: PluginTestEnv;

beforeAll(async () => {
  traced = await startTracedPlatform();
  env = await pluginTestEnv();
}, 180_000);

afterAll(async () => {
  await env?.cleanup();
  await traced?.stop();
});

it('pulumi up → plugin operation → client → platform, parent by parent, in one trace', async () => {
  const { jaeger, url: endpoint, adminKey: apiKey } = traced;
  const files = { 'Pulumi.yaml': PROGRAM };
  const project = await env.project('traced', { files }, { endpoint, apiKey });
  await project.run(['up', '--yes', '--skip-preview', '--otel-traces', jaeger.otlpHttp]);

  const hasCreate = (spans: JaegerSpan[]) =>
    spans.some((s) => s.operationName === 'POST /v1/entities') &&
    spans.some((s) => s.operationName === 'pulumi.provider/create');
  const trace = await jaeger.traceOf('tokenplane-platform', (t) => hasCreate(t.spans));
  const service = (s: JaegerSpan) => trace.processes[s.processID]?.serviceName;
  const byId = new Map(trace.spans.map((s) => [s.spanID, s]));
  const parent = (s: JaegerSpan | undefined) =>
    s && byId.get(s.references.find((r) => r.refType === 'CHILD_OF')?.spanID ?? '');

  const server = trace.spans.find(
    (s) => s.operationName === 'POST /v1/entities' && service(s) === 'tokenplane-platform',
  );
  expect(server).toBeDefined();
  const client = parent(server);
  expect(client && service(client)).toBe('tokenplane-provider');
  let operation = parent(client);
  while (operation && !operation.operationName.startsWith('pulumi.provider/')) {
    operation = parent(operation);
  }
  expect(operation?.operationName).toBe('pulumi.provider/create');
  // The engine's own span of that call is the operation's parent.
  const engine = parent(operation);
  expect(engine).toBeDefined();
  expect(service(engine as JaegerSpan)).not.toMatch(/^tokenplane-/);
  expect(JSON.stringify(trace)).not.toContain(apiKey);
});

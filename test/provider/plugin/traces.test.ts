// One `pulumi up` is one trace (README "Observability"): the real CLI run with
// `--otel-traces` at a real Jaeger hands the plugin its receiver and each
// call's traceparent; the plugin's span per operation is the parent of the
// typed client's span, which is the parent of `tokenplane serve`'s server
// span — three processes, one trace, no key in it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningCli, runCli } from '../../harness/cli.ts';
import { type JaegerSpan, type RunningJaeger, startJaeger } from '../../harness/jaeger.ts';
import { type PluginTestEnv, pluginTestEnv } from '../../harness/plugin.ts';

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

let jaeger: RunningJaeger;
let platform: RunningCli;
let env: PluginTestEnv;
let settings: { endpoint: string; apiKey: string };
const dir = mkdtempSync(join(tmpdir(), 'tokenplane-plugin-traces-'));

beforeAll(async () => {
  jaeger = await startJaeger();
  platform = runCli(['serve', '--port', '0', '--data-dir', dir], {
    tty: false,
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpHttp,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      TOKENPLANE_ADMIN_KEY: undefined,
    },
  });
  const url = (await platform.waitFor(/listening on (http:\/\/[^"\s]+)/, 60_000))[1] as string;
  settings = { endpoint: url, apiKey: readFileSync(join(dir, 'admin-key'), 'utf8').trim() };
  env = await pluginTestEnv();
}, 180_000);

afterAll(async () => {
  await env?.cleanup();
  platform?.interrupt();
  await platform?.done;
  await jaeger?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('pulumi up → plugin operation → client → platform, parent by parent, in one trace', async () => {
  const project = await env.project('traced', { files: { 'Pulumi.yaml': PROGRAM } }, settings);
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
  expect(JSON.stringify(trace)).not.toContain(settings.apiKey);
});

// One `pulumi up` is one trace with the dynamic provider too (README
// "Observability"): the real CLI runs a Node.js program with `--otel-traces` at
// a real Jaeger; the dynamic-provider host hands the engine's traceparent of
// each call to the provider's span of the operation, which is the parent of the
// typed client's span, which is the parent of `tokenplane serve`'s server span
// — three processes, one trace, no key in it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { repoRoot } from '../engines/engines.ts';
import { type RunningCli, runCli } from '../harness/cli.ts';
import { type JaegerSpan, type RunningJaeger, startJaeger } from '../harness/jaeger.ts';
import { type PulumiTestEnv, pulumiTestEnv } from '../harness/pulumi.ts';

let jaeger: RunningJaeger;
let platform: RunningCli;
let env: PulumiTestEnv;
let apiKey: string;
const dir = mkdtempSync(join(tmpdir(), 'tokenplane-dynamic-traces-'));

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
  apiKey = readFileSync(join(dir, 'admin-key'), 'utf8').trim();
  env = await pulumiTestEnv({ envVars: { TOKENPLANE_ENDPOINT: url, TOKENPLANE_API_KEY: apiKey } });
  // A program on disk, so that the CLI itself runs it (and passes --otel-traces on).
  writeFileSync(
    join(env.workDir, 'Pulumi.yaml'),
    'name: traced\nruntime:\n  name: nodejs\n  options:\n    typescript: false\nmain: index.mjs\n',
  );
  writeFileSync(
    join(env.workDir, 'index.mjs'),
    `import { ApiToken, Entity } from ${JSON.stringify(join(repoRoot, 'provider/index.ts'))};
const shop = new Entity('shop', { displayName: 'Traced shop', kind: 'customer', tier: 'lite', defaultToken: false });
export const value = new ApiToken('key', { entityId: shop.entityId, displayName: 'key' }).value;
`,
  );
  await env.cli(['stack', 'init', 'dev']);
}, 180_000);

afterAll(async () => {
  await env?.cleanup();
  platform?.interrupt();
  await platform?.done;
  await jaeger?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('pulumi up → dynamic provider operation → client → platform, parent by parent, in one trace', async () => {
  await env.cli(['up', '--yes', '--skip-preview', '--otel-traces', jaeger.otlpHttp]);

  const creates = (s: JaegerSpan) => s.operationName === 'POST /v1/entities';
  const trace = await jaeger.traceOf('tokenplane-provider', (t) => t.spans.some(creates));
  const service = (s: JaegerSpan) => trace.processes[s.processID]?.serviceName;
  const byId = new Map(trace.spans.map((s) => [s.spanID, s]));
  const parent = (s: JaegerSpan | undefined) =>
    s && byId.get(s.references.find((r) => r.refType === 'CHILD_OF')?.spanID ?? '');

  // The client's span bears the same name: the platform's is the server span.
  const server = trace.spans.find((s) => creates(s) && service(s) === 'tokenplane-platform');
  expect(server).toBeDefined();
  const client = parent(server);
  expect(client && service(client)).toBe('tokenplane-provider');
  const operation = parent(client);
  expect(operation?.operationName).toBe('pulumi.provider/create');
  // The engine's own span of that call is the operation's parent.
  const engine = parent(operation);
  expect(engine).toBeDefined();
  expect(service(engine as JaegerSpan)).not.toMatch(/^tokenplane-/);

  // Neither the key nor the token value is in a span of ours. (The engine's and
  // the language host's own spans carry the program's gRPC requests, secret
  // outputs in plain text: README "Observability".)
  const { value } = JSON.parse(await env.cli(['stack', 'output', '--json', '--show-secrets']));
  expect(value).toEqual(expect.stringMatching(/^\S{20,}$/));
  const tokenCreate = await jaeger.traceOf('tokenplane-provider', (t) =>
    t.spans.some((s) => s.operationName === 'POST /v1/entities/:id/tokens'),
  );
  for (const t of [trace, tokenCreate]) {
    const ours = t.spans.filter((s) =>
      t.processes[s.processID]?.serviceName.startsWith('tokenplane-'),
    );
    expect(ours.length).toBeGreaterThanOrEqual(3);
    expect(JSON.stringify(ours)).not.toContain(apiKey);
    expect(JSON.stringify(ours)).not.toContain(value);
  }
  expect(JSON.stringify(trace)).not.toContain(apiKey);
});

it('pulumi destroy: a delete span per resource, the parent of the platform call it makes', async () => {
  await env.cli(['destroy', '--yes', '--skip-preview', '--otel-traces', jaeger.otlpHttp]);
  for (const call of ['DELETE /v1/tokens/{id}', 'DELETE /v1/entities/{id}']) {
    const trace = await jaeger.traceOf('tokenplane-provider', (t) =>
      t.spans.some((s) => s.operationName === call),
    );
    const byId = new Map(trace.spans.map((s) => [s.spanID, s]));
    const parent = (s: JaegerSpan | undefined) =>
      s && byId.get(s.references.find((r) => r.refType === 'CHILD_OF')?.spanID ?? '');
    const client = trace.spans.find((s) => s.operationName === call);
    expect(parent(client)?.operationName, call).toBe('pulumi.provider/delete');
  }
});

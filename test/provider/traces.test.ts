// One `pulumi up` is one trace with the dynamic provider too (README
// "Observability"): the real CLI runs a Node.js program with `--otel-traces` at
// a real Jaeger; the dynamic-provider host hands the engine's traceparent of
// each call to the provider's span of the operation, which is the parent of the
// typed client's span, which is the parent of `tokenplane serve`'s server span
// — three processes, one trace, no key in it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { repoRoot } from '../engines/engines.ts';
import type { JaegerSpan } from '../harness/jaeger.ts';
import { type PulumiTestEnv, pulumiTestEnv } from '../harness/pulumi.ts';
import { startTracedPlatform, type TracedPlatform } from '../harness/traced-platform.ts';

let traced: TracedPlatform;
let env: PulumiTestEnv;

beforeAll(async () => {
  traced = await startTracedPlatform();
  env = await pulumiTestEnv({
    envVars: { TOKENPLANE_ENDPOINT: traced.url, TOKENPLANE_API_KEY: traced.adminKey },
  });
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
  await traced?.stop();
});

it('pulumi up → dynamic provider operation → client → platform, parent by parent, in one trace', async () => {
  const { jaeger, adminKey: apiKey } = traced;
  await env.cli(['up', '--yes', '--skip-preview', '--otel-traces', jaeger.otlpHttp]);

  const creates = (s: JaegerSpan) => s.operationName === 'POST /v1/entities';
  // Once the engine's span of the call is in too (the CLI exports its spans last).
  const trace = await jaeger.traceOf(
    'tokenplane-provider',
    (t) =>
      t.spans.some(creates) &&
      t.spans.some((s) => s.operationName === 'pulumirpc.ResourceProvider/Create'),
  );
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
  const { jaeger } = traced;
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

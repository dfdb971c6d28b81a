// Traces across processes (README "Observability"): the typed client in this
// process and `tokenplane serve` in another, both exporting over OTLP/HTTP to a
// real Jaeger — this process with http/protobuf, the platform with http/json.
// One client call is one trace: the client's span, the platform's server span
// under it (W3C traceparent), the storage spans under that; no key in any span.
// One console action is one trace too: the form post's server span, the console's
// client call under it, and the API's server span under that.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TokenplaneClient } from '../../core/client/index.ts';
import { inSpan, startTracing, type Tracing } from '../../core/tracing.ts';
import type { JaegerSpan, RunningJaeger } from '../harness/jaeger.ts';
import { startTracedPlatform, type TracedPlatform } from '../harness/traced-platform.ts';

let traced: TracedPlatform;
let jaeger: RunningJaeger;
let tracing: Tracing | null;
let client: TokenplaneClient;
let adminKey: string;

beforeAll(async () => {
  traced = await startTracedPlatform('http/json');
  ({ jaeger, adminKey } = traced);
  Object.assign(process.env, traced.exporting, { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' });
  tracing = await startTracing('tokenplane-test-client');
  client = new TokenplaneClient({ endpoint: traced.url, apiKey: adminKey });
}, 120_000);

afterAll(async () => {
  await client?.close();
  await tracing?.shutdown();
  await traced?.stop();
});

it('one client call is one trace across the two processes: client span → server span → storage spans', async () => {
  expect(tracing).not.toBeNull();
  let traceId = '';
  await inSpan('test: create an entity and its token', {}, async (span) => {
    traceId = span.spanContext().traceId;
    const entity = await client.createEntity({ name: 'Traced', kind: 'customer', tier: 'lite' });
    await client.getEntity(entity.id);
  });
  // The test's span, two client spans, two server spans, and their storage spans.
  const trace = await jaeger.trace(traceId, 8);
  const service = (s: JaegerSpan) => trace.processes[s.processID]?.serviceName;
  const byId = new Map(trace.spans.map((s) => [s.spanID, s]));
  const parent = (s: JaegerSpan) =>
    byId.get(s.references.find((r) => r.refType === 'CHILD_OF')?.spanID ?? '');
  const kind = (s: JaegerSpan) => s.tags.find((t) => t.key === 'span.kind')?.value;

  const servers = trace.spans.filter(
    (s) => service(s) === 'tokenplane-platform' && kind(s) === 'server',
  );
  expect(servers.map((s) => s.operationName).sort()).toEqual([
    'GET /v1/entities/:id',
    'POST /v1/entities',
  ]);
  // Each server span ends with the answer's status (POST 201, GET 200).
  const tag = (s: JaegerSpan, key: string) => s.tags.find((t) => t.key === key)?.value;
  expect(servers.map((s) => tag(s, 'http.response.status_code')).sort()).toEqual([200, 201]);
  for (const server of servers) {
    const caller = parent(server);
    expect(caller && service(caller)).toBe('tokenplane-test-client');
    expect(caller && kind(caller)).toBe('client');
    expect(caller && parent(caller)?.operationName).toBe('test: create an entity and its token');
  }
  // Storage spans of the platform, each under one of its server spans.
  const storage = trace.spans.filter(
    (s) => service(s) === 'tokenplane-platform' && kind(s) === 'client',
  );
  expect(storage.length).toBeGreaterThanOrEqual(2);
  for (const span of storage) {
    let up = parent(span);
    while (up && !servers.includes(up)) up = parent(up);
    expect(up, span.operationName).toBeDefined();
  }
  expect(storage.some((s) => /^INSERT /.test(s.operationName))).toBe(true);
  expect(JSON.stringify(trace)).not.toContain(adminKey);
});

it('one console action is one trace: the form post, the console client, the API call under it', async () => {
  const origin = new URL(client.endpoint).origin;
  const form = (fields: Record<string, string>) => ({
    method: 'POST',
    redirect: 'manual' as const,
    headers: { origin, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  const signIn = await fetch(`${origin}/console/sign-in`, form({ key: adminKey }));
  const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0] as string;
  const home = await (await fetch(`${origin}/console/`, { headers: { cookie } })).text();
  const csrf = /name="csrf-token" content="([^"]+)"/.exec(home)?.[1] ?? '';
  const posted = await fetch(`${origin}/console/entities`, {
    ...form({ _csrf: csrf, name: 'Console traced', kind: 'customer', tier: 'lite' }),
    headers: { ...form({}).headers, cookie },
  });
  expect(posted.status).toBe(303);

  const isConsolePost = (s: JaegerSpan) => s.operationName === 'POST /console/entities';
  const trace = await jaeger.traceOf('tokenplane-platform', (t) => t.spans.some(isConsolePost));
  const byId = new Map(trace.spans.map((s) => [s.spanID, s]));
  const parent = (s: JaegerSpan | undefined) =>
    s && byId.get(s.references.find((r) => r.refType === 'CHILD_OF')?.spanID ?? '');
  const kind = (s: JaegerSpan | undefined) => s?.tags.find((t) => t.key === 'span.kind')?.value;
  const api = trace.spans.find(
    (s) => s.operationName === 'POST /v1/entities' && kind(s) === 'server',
  );
  const caller = parent(api);
  expect(kind(caller)).toBe('client');
  let up = parent(caller);
  while (up && !isConsolePost(up)) up = parent(up);
  expect(up?.operationName).toBe('POST /console/entities');
  expect(JSON.stringify(trace)).not.toContain(adminKey);
});

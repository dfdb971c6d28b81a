// The informer wrapper against the real API server through a TCP proxy that can
// cut or silence connections: it re-lists after failures, survives disconnects,
// and its watchdog restarts a watch that went silent.
import { connect, createServer, type Socket } from 'node:net';
import { CoreV1Api, KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Watched } from '../../operator/runtime/informer.ts';
import { adminKubeConfig, createTestNamespace } from '../harness/kube.ts';
import { waitFor } from '../harness/wait.ts';

let ns = '';
const sockets = new Set<Socket>();
let silenced = false;
const proxy = createServer((client) => {
  const target = new URL(adminKubeConfig().getCurrentCluster()?.server as string);
  const upstream = connect(Number(target.port), target.hostname);
  const pair = [client, upstream];
  for (const s of pair) {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  }
  // Silencing drops bytes on connections open at that moment; new ones work.
  const wasSilenced = () => silenced && opened < silencedAt;
  const opened = Date.now();
  client.on('data', (d) => (wasSilenced() ? undefined : upstream.write(d)));
  upstream.on('data', (d) => (wasSilenced() ? undefined : client.write(d)));
  client.on('close', () => upstream.destroy());
  upstream.on('close', () => client.destroy());
});
let silencedAt = 0;

function proxiedKubeConfig(port: number): KubeConfig {
  const admin = adminKubeConfig();
  const kc = new KubeConfig();
  const cluster = admin.getCurrentCluster();
  kc.loadFromOptions({
    clusters: [{ ...cluster, name: 'proxied', server: `https://127.0.0.1:${port}` }],
    users: [admin.getCurrentUser()],
    contexts: [{ name: 'proxied', cluster: 'proxied', user: admin.getCurrentUser()?.name }],
    currentContext: 'proxied',
  });
  return kc;
}

beforeAll(async () => {
  ns = await createTestNamespace('op-informer');
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
});

afterAll(() => {
  for (const s of sockets) s.destroy();
  proxy.close();
});

it('re-lists after failures, survives cut connections and restarts a silent watch', async () => {
  const port = (proxy.address() as { port: number }).port;
  const kc = proxiedKubeConfig(port);
  const core = kc.makeApiClient(CoreV1Api);
  const admin = adminKubeConfig().makeApiClient(CoreV1Api);
  const seen = new Set<string>();
  const restarts: string[] = [];
  let listFailures = 2;
  const watched = new Watched<V1ConfigMap & { metadata: { name: string } }>({
    kc,
    path: `/api/v1/namespaces/${ns}/configmaps`,
    list: async () => {
      if (listFailures-- > 0) throw new Error('list refused (test)');
      return core.listNamespacedConfigMap({ namespace: ns }) as never;
    },
    handlers: { add: (cm) => seen.add(cm.metadata.name) },
    log: pino({ level: 'silent' }),
    watchdogMs: 2000,
    backoffBaseMs: 100,
    backoffMaxMs: 500,
    onRestart: (reason) => restarts.push(reason),
  });
  const make = (name: string) =>
    admin.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name }, data: { a: 'b' } },
    });
  try {
    await make('before');
    await watched.start();
    await waitFor('listed after failures', async () => seen.has('before'));
    expect(restarts.filter((r) => r.includes('list refused')).length).toBeGreaterThanOrEqual(1);

    for (const s of sockets) s.destroy();
    await make('after-cut');
    await waitFor('event after the cut', async () => seen.has('after-cut'));

    silenced = true;
    silencedAt = Date.now();
    await make('after-silence');
    await waitFor('event after a silent watch', async () => seen.has('after-silence'), 30_000);
    expect(watched.list().map((c) => c.metadata.name)).toEqual(
      expect.arrayContaining(['before', 'after-cut', 'after-silence']),
    );
  } finally {
    silenced = false;
    await watched.stop();
  }
});

it('lists in pages and keeps only what the transform returns, for listed and watched objects', async () => {
  const admin = adminKubeConfig();
  const core = admin.makeApiClient(CoreV1Api);
  const make = (name: string) =>
    core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name, labels: { paged: 'yes' } }, data: { big: 'x'.repeat(1000) } },
    });
  for (let i = 0; i < 5; i++) await make(`paged-${i}`);
  const pages: (string | undefined)[] = [];
  type Slim = {
    metadata: { name: string; namespace?: string; resourceVersion?: string };
    size: number;
  };
  const watched = new Watched<Slim>({
    kc: admin,
    path: `/api/v1/namespaces/${ns}/configmaps`,
    labelSelector: 'paged=yes',
    pageSize: 2,
    list: async (page) => {
      pages.push(page.continue);
      return core.listNamespacedConfigMap({
        namespace: ns,
        labelSelector: 'paged=yes',
        limit: page.limit,
        _continue: page.continue,
      }) as never;
    },
    transform: (obj) => ({
      metadata: {
        name: obj.metadata?.name ?? '',
        namespace: obj.metadata?.namespace,
        resourceVersion: obj.metadata?.resourceVersion,
      },
      size: (obj as V1ConfigMap).data?.big?.length ?? 0,
    }),
    handlers: {},
    log: pino({ level: 'silent' }),
  });
  try {
    await watched.start();
    expect(pages).toHaveLength(3);
    expect(pages[0]).toBeUndefined();
    await make('paged-watched');
    await waitFor('watched object cached', async () => !!watched.get('paged-watched', ns));
    for (const obj of watched.list()) {
      expect(Object.keys(obj.metadata).sort()).toEqual(['name', 'namespace', 'resourceVersion']);
      expect(obj.size).toBe(1000);
    }
    expect(watched.list()).toHaveLength(6);
  } finally {
    await watched.stop();
  }
});

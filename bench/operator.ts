/**
 * `npm run bench:operator` — 1,000 ApiTokens across 200 Advanced entities (one
 * per entity adopting the default token) on a real control plane, with the
 * operator as a child process under the deploy/ ServiceAccount. Reports the time
 * from apply to all Ready with their Secrets, reconciles per object, the
 * operator's Kubernetes API requests per ApiToken (watches included, by method),
 * and the operator's peak RSS and peak heap. Targets: ≤ 120 s, ≤ 3 reconciles per object, ≤ 250 MB.
 *
 * Env: BENCH_ENTITIES (200; a comma-separated list runs each size in the same run, in its own
 * namespace with a fresh operator, e.g. 200,1000,2000 for 1k/5k/10k ApiTokens),
 * BENCH_TOKENS_PER_ENTITY (5), BENCH_CONCURRENCY (operator workers, 8).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { startServer } from '../platform/server/app.ts';
import {
  freePort,
  loadKubeConfig,
  serviceAccountKubeconfig,
  startControlPlane,
} from '../test/harness/control-plane.ts';
import { GROUP, installCrds, installRbac, VERSION } from '../test/operator/install.ts';

const SIZES = (process.env.BENCH_ENTITIES ?? '200').split(',').map(Number);
const PER_ENTITY = Number(process.env.BENCH_TOKENS_PER_ENTITY ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
/** The flags deploy/deployment.yaml sets through NODE_OPTIONS. */
const NODE_FLAGS = (
  process.env.BENCH_NODE_FLAGS ?? '--max-semi-space-size=2 --max-old-space-size=192'
)
  .split(' ')
  .filter(Boolean);

async function pool<T>(items: T[], width: number, fn: (item: T) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

function rssKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(status.match(new RegExp(`${field}:\\s+(\\d+)`))?.[1] ?? 0);
}

async function main() {
  const cp = await startControlPlane();
  const dataDir = mkdtempSync(join(tmpdir(), 'tokenplane-bench-'));
  const platform = await startServer({ port: 0, dataDir, logger: false, env: {} });
  try {
    const admin = loadKubeConfig(cp.kubeconfigPath);
    await installCrds(admin);
    const sa = await serviceAccountKubeconfig(cp, {
      namespace: 'tokenplane-system',
      name: 'tokenplane-operator',
    });
    const results = [];
    for (const entities of SIZES) results.push(await runSize({ admin, sa, platform }, entities));
    console.log(JSON.stringify(results.length === 1 ? results[0] : results, null, 2));
  } finally {
    await platform.close();
    await cp.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

type Setup = {
  admin: ReturnType<typeof loadKubeConfig>;
  sa: Awaited<ReturnType<typeof serviceAccountKubeconfig>>;
  platform: Awaited<ReturnType<typeof startServer>>;
};

/** One size in its own namespace, with a fresh operator watching only it. */
async function runSize({ admin, sa, platform }: Setup, ENTITIES: number) {
  const NS = `bench-${ENTITIES}`;
  const core = admin.makeApiClient(CoreV1Api);
  let child: ReturnType<typeof spawn> | undefined;
  try {
    await core.createNamespace({ body: { metadata: { name: NS } } });
    await installRbac(NS, admin);
    const metricsPort = await freePort();
    child = spawn(
      process.execPath,
      [
        ...NODE_FLAGS,
        new URL('../operator/main.ts', import.meta.url).pathname,
        '--kubeconfig',
        sa.path,
        '--namespace',
        NS,
        '--watch-namespace',
        NS,
        '--metrics-port',
        String(metricsPort),
        '--concurrency',
        String(CONCURRENCY),
      ],
      {
        env: {
          ...process.env,
          TOKENPLANE_ENDPOINT: platform.url,
          TOKENPLANE_API_KEY: platform.adminKey,
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    const pid = child.pid as number;
    let peakKb = 0;
    let peakHeap = 0;
    const sampler = setInterval(() => {
      try {
        peakKb = Math.max(peakKb, rssKb(pid, 'VmRSS'));
      } catch {}
    }, 200);
    const heapSampler = setInterval(async () => {
      const text = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then(
        (r) => r.text(),
        () => '',
      );
      const used = text.match(/^tokenplane_operator_nodejs_heap_size_used_bytes (\S+)/m)?.[1];
      peakHeap = Math.max(peakHeap, Number(used ?? 0));
    }, 1000);

    // Wait until the operator leads (it serves /metrics with leader=1).
    for (;;) {
      const text = await fetch(`http://127.0.0.1:${metricsPort}/readyz`).then(
        (r) => r.status,
        () => 0,
      );
      if (text === 200) break;
      await new Promise((r) => setTimeout(r, 200));
    }

    const custom = admin.makeApiClient(CustomObjectsApi);
    const create = (plural: string, kind: string, name: string, spec: object) =>
      custom.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: NS,
        plural,
        body: { apiVersion: `${GROUP}/${VERSION}`, kind, metadata: { name }, spec },
      });
    const entities = Array.from({ length: ENTITIES }, (_, i) => `customer-${i}`);
    const tokens = entities.flatMap((e) =>
      Array.from({ length: PER_ENTITY }, (_, j) => ({
        entity: e,
        name: `${e}-t${j}`,
        adopt: j === 0,
      })),
    );
    const started = Date.now();
    await pool(entities, 16, (name) =>
      create('entities', 'Entity', name, { kind: 'Customer', tier: 'Advanced' }),
    );
    await pool(tokens, 16, (t) =>
      create('apitokens', 'ApiToken', t.name, {
        entityRef: { name: t.entity },
        adoptDefaultToken: t.adopt,
      }),
    );
    const applied = Date.now();

    let ready = 0;
    let secrets = 0;
    for (;;) {
      const list = (await custom.listNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: NS,
        plural: 'apitokens',
      })) as { items: { status?: { conditions?: { type: string; status: string }[] } }[] };
      ready = list.items.filter((t) =>
        t.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      ).length;
      secrets = (
        await core.listNamespacedSecret({
          namespace: NS,
          labelSelector: 'app.kubernetes.io/managed-by=tokenplane',
        })
      ).items.length;
      if (ready === tokens.length && secrets === tokens.length) break;
      if (Date.now() - started > 600_000) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const done = Date.now();
    // Let in-flight follow-ups (status echoes) settle before counting reconciles.
    await new Promise((r) => setTimeout(r, 3000));
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const count = (kind: string) =>
      metrics
        .split('\n')
        .filter((l) => l.startsWith(`tokenplane_operator_reconcile_total{kind="${kind}"`))
        .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
    const gauge = (name: string) =>
      Number(
        metrics
          .split('\n')
          .find((l) => l.startsWith(`${name} `))
          ?.split(' ')
          .pop() ?? 0,
      );
    clearInterval(sampler);
    clearInterval(heapSampler);
    const hwmKb = rssKb(pid, 'VmHWM');
    const kubeRequests = Object.fromEntries(
      metrics
        .split('\n')
        .filter((l) => l.startsWith('tokenplane_operator_kube_requests_total{'))
        .map((l) => [l.match(/method="(\w+)"/)?.[1] ?? '?', Number(l.split(' ').pop())]),
    );
    const kubeTotal = Object.values(kubeRequests).reduce((a, b) => a + b, 0);
    const tokenReconciles = count('ApiToken');
    const entityReconciles = count('Entity');
    const result = {
      entities: ENTITIES,
      peakHeapUsedMB: +(peakHeap / 2 ** 20).toFixed(1),
      apiTokens: tokens.length,
      operatorConcurrency: CONCURRENCY,
      nodeFlags: NODE_FLAGS.join(' '),
      applySeconds: (applied - started) / 1000,
      allReadySeconds: (done - started) / 1000,
      ready,
      secrets,
      reconcilesPerApiToken: +(tokenReconciles / tokens.length).toFixed(2),
      reconcilesPerEntity: +(entityReconciles / ENTITIES).toFixed(2),
      reconcilesPerObject: +(
        (tokenReconciles + entityReconciles) /
        (tokens.length + ENTITIES)
      ).toFixed(2),
      kubeRequestsPerApiToken: +(kubeTotal / tokens.length).toFixed(2),
      kubeRequestsByMethod: kubeRequests,
      peakRssMB: +(Math.max(peakKb, hwmKb) / 1024).toFixed(1),
      endHeapUsedMB: +(gauge('tokenplane_operator_nodejs_heap_size_used_bytes') / 2 ** 20).toFixed(
        1,
      ),
      endExternalMB: +(gauge('tokenplane_operator_nodejs_external_memory_bytes') / 2 ** 20).toFixed(
        1,
      ),
      targets: { allReadySeconds: 120, reconcilesPerObject: 3, peakRssMB: 250 },
    };
    return result;
  } finally {
    child?.kill('SIGTERM');
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

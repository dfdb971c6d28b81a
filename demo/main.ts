/**
 * `npm run demo`: the whole product on this machine, in one command.
 *
 * 0. the test engines, built on first use with progress (test/engines/ensure.ts);
 * 1. the platform (`tokenplane serve`, SQLite in a temporary directory);
 * 2. a local Kubernetes control plane (etcd + kube-apiserver, the test harness),
 *    the CRDs and the deploy/ RBAC;
 * 3. `tokenplane operator` under the operator's ServiceAccount (deploy/ RBAC);
 * 4. examples/kubernetes applied, every Entity and ApiToken Ready, Secrets written;
 * 5. examples/pulumi up (its inline Automation API program on the pulumi CLI);
 * 6. a summary; Ctrl-C stops everything and removes every file it made.
 */
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustomObjectsApi, type KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import { TokenplaneClient } from '../core/client/index.ts';
import { GROUP, VERSION } from '../operator/crds/schemas.ts';
import { ensureEngines } from '../test/engines/ensure.ts';
import {
  loadKubeConfig,
  serviceAccountKubeconfig,
  startControlPlane,
} from '../test/harness/control-plane.ts';
import { freePort } from '../test/harness/ports.ts';
import { pulumiTestEnv } from '../test/harness/pulumi.ts';
import { installCrds, installRbac, yamlDocs } from '../test/operator/install.ts';
import { type Child, killDescendants, tokenplane } from './processes.ts';
import { summary } from './summary.ts';

const started = Date.now();
const step = (text: string) => {
  const seconds = ((Date.now() - started) / 1000).toFixed(1).padStart(5);
  process.stdout.write(`[${seconds}s] ${text}\n`);
};
// A terminal that went away while cleaning up is no reason to stop cleaning up.
process.stdout.on('error', () => {});

/** Clean-ups, run last-first on Ctrl-C or failure. */
const cleanups: (() => Promise<void> | void)[] = [];
const abort = new AbortController();
let stopping: Promise<void> | undefined;

function stopAll(code: number): Promise<void> {
  stopping ??= (async () => {
    step('stopping everything …');
    abort.abort();
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (err) {
        process.stderr.write(`demo: clean-up step failed: ${(err as Error).message}\n`);
      }
    }
    killDescendants();
    step('stopped; nothing left running');
    process.exit(code);
  })();
  return stopping;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (!abort.signal.aborted) {
    const value = await fn().catch((err: unknown) => {
      last = err;
      return undefined;
    });
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`gave up waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('stopped');
}

async function startPlatform(dir: string) {
  const port = await freePort();
  const dataDir = join(dir, 'platform');
  const log = join(dir, 'platform.log');
  const child = tokenplane(['serve', '--port', String(port), '--data-dir', dataDir], {}, log);
  cleanups.push(() => child.stop());
  const url = `http://127.0.0.1:${port}`;
  await until('the platform', async () => ((await fetch(`${url}/readyz`)).ok ? true : undefined));
  const adminKeyFile = join(dataDir, 'admin-key');
  const adminKey = readFileSync(adminKeyFile, 'utf8').trim();
  step(`platform listening on ${url}`);
  return { url, adminKey, adminKeyFile, log };
}

async function startCluster() {
  const cp = await startControlPlane();
  cleanups.push(() => cp.stop());
  const kc = loadKubeConfig(cp.kubeconfigPath);
  await installCrds(kc);
  await installRbac('tokenplane-system', kc);
  step(`control plane ready at ${cp.server}; CRDs and deploy/rbac.yaml installed`);
  return { cp, kc };
}

async function startOperator(
  dir: string,
  cluster: Awaited<ReturnType<typeof startCluster>>,
  platform: Awaited<ReturnType<typeof startPlatform>>,
): Promise<{ child: Child; metricsUrl: string; log: string }> {
  const sa = await serviceAccountKubeconfig(cluster.cp, {
    namespace: 'tokenplane-system',
    name: 'tokenplane-operator',
  });
  const port = await freePort();
  const log = join(dir, 'operator.log');
  const child = tokenplane(
    ['operator', '--kubeconfig', sa.path, '--metrics-port', String(port)],
    { TOKENPLANE_ENDPOINT: platform.url, TOKENPLANE_API_KEY: platform.adminKey },
    log,
  );
  cleanups.push(() => child.stop());
  const metricsUrl = `http://127.0.0.1:${port}`;
  await until('the operator', async () =>
    (await fetch(`${metricsUrl}/readyz`)).ok ? true : undefined,
  );
  step(`operator running as ${sa.username} (deploy/ RBAC), metrics on ${metricsUrl}`);
  return { child, metricsUrl, log };
}

async function applyExamples(kc: KubeConfig): Promise<string[]> {
  const objects = kc.makeApiClient(KubernetesObjectApi);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const docs = ['entities.yaml', 'apitokens.yaml', 'app.yaml'].flatMap((f) =>
    yamlDocs(`examples/kubernetes/${f}`),
  );
  for (const doc of docs) {
    // Discovery of freshly installed CRDs can lag: retry until the kind is known.
    await until(`${doc.kind} ${doc.metadata?.name}`, () => objects.create(doc).then(() => true));
  }
  step(`examples/kubernetes applied (${docs.length} objects); waiting for Ready`);
  for (const doc of docs.filter((d) => d.kind === 'Entity' || d.kind === 'ApiToken')) {
    const plural = doc.kind === 'Entity' ? 'entities' : 'apitokens';
    const { name = '', namespace = '' } = doc.metadata ?? {};
    await until(`${doc.kind} ${namespace}/${name} Ready`, async () => {
      const obj = (await custom.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural,
        name,
      })) as { status?: { conditions?: { type: string; status: string }[] } };
      const ready = obj.status?.conditions?.find((c) => c.type === 'Ready');
      return ready?.status === 'True' ? true : undefined;
    });
  }
  step('every example Entity and ApiToken is Ready');
  return [...new Set(docs.map((d) => d.metadata?.namespace).filter((n): n is string => !!n))];
}

async function pulumiUp(dir: string, platform: Awaited<ReturnType<typeof startPlatform>>) {
  const env = await pulumiTestEnv();
  cleanups.push(() => env.cleanup());
  const stack = await env.inlineStack({
    projectName: 'tokenplane-example',
    stackName: 'demo',
    // Module exports are the stack outputs, as with `pulumi up` on the project.
    program: async () => ({ ...(await import('../examples/pulumi/index.ts')) }),
  });
  await stack.setAllConfig({
    'tokenplane:endpoint': { value: platform.url },
    'tokenplane:apiKey': { value: platform.adminKey, secret: true },
  });
  const log = join(dir, 'pulumi.log');
  const out = createWriteStream(log);
  step('pulumi up examples/pulumi …');
  const result = await stack.up({ onOutput: (text) => out.write(text), signal: abort.signal });
  out.end();
  step(`pulumi up: ${JSON.stringify(result.summary.resourceChanges)}`);
  const vars = Object.entries(env.envVars)
    .filter(([k]) => ['PULUMI_HOME', 'PULUMI_BACKEND_URL', 'PULUMI_CONFIG_PASSPHRASE'].includes(k))
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return {
    log,
    outputs: `${vars} ${env.pulumiCommand.command} -C ${env.workDir} stack output --stack demo --show-secrets`,
  };
}

async function main(): Promise<void> {
  // `on`, not `once`: the harness's own exit-time clean-up (test/harness/cleanup.ts)
  // exits at once when it is the only listener left, before this graceful stop.
  // SIGHUP too: the terminal closing (or `npm run` ending first) must not cut the clean-up short.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.on(signal, () => void stopAll(0));
  const dir = mkdtempSync(join(tmpdir(), 'tokenplane-demo-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  step(`tokenplane demo in ${dir} (Ctrl-C stops everything and removes it)`);
  // Built on first use (minutes, with progress on stderr); a few ms when cached.
  await ensureEngines([
    'etcd',
    'kube-apiserver',
    'kube-controller-manager',
    'pulumi',
    'pulumi-resource-pulumi-nodejs',
  ]);
  step('engines ready');

  const [platform, cluster] = await Promise.all([startPlatform(dir), startCluster()]);
  const operator = await startOperator(dir, cluster, platform);
  const namespaces = await applyExamples(cluster.kc);
  const pulumi = await pulumiUp(dir, platform);

  const client = new TokenplaneClient({ endpoint: platform.url, apiKey: platform.adminKey });
  const text = await summary(client, cluster.kc, namespaces, {
    platformUrl: platform.url,
    adminKeyFile: platform.adminKeyFile,
    kubeconfig: cluster.cp.kubeconfigPath,
    metricsUrl: operator.metricsUrl,
    pulumiOutputs: pulumi.outputs,
    logs: {
      platform: platform.log,
      operator: operator.log,
      pulumi: pulumi.log,
      'control plane': cluster.cp.dir,
    },
  });
  await client.close();
  process.stdout.write(`\n${text}\n\nAll running. Press Ctrl-C to stop everything.\n`);
}

main().catch(async (err: unknown) => {
  if (stopping) return;
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  await stopAll(1);
});

/**
 * The product on a real node (README, "On a real node"): a one-node cluster
 * in a network namespace (test/harness/node.ts), the images `npm run image`
 * builds, both Helm charts installed from them with --wait, and
 * examples/kubernetes applied as it is. The example application reads its
 * token from the mounted Secret and calls the platform; a rotation reaches it;
 * the operator's leader dies mid-reconcile without a token issued twice; the
 * deletion policies do what they say. Runs as root (CI does).
 */
import { chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, IMAGES } from '../../deploy/image/build.ts';
import { GROUP, VERSION } from '../../operator/crds/schemas.ts';
import { Helm } from '../harness/helm.ts';
import { type Cluster, startCluster } from '../harness/node.ts';
import { waitFor } from '../harness/wait.ts';
import { yamlDocs } from '../operator/install.ts';

const NS = 'tokenplane-system';
const work = mkdtempSync(join(tmpdir(), 'tokenplane-node-test-'));
const helm = new Helm();
let cluster: Cluster;
let platform = '';
let adminKey = '';
const { version } = await import('../../package.json', { with: { type: 'json' } }).then(
  (m) => m.default,
);

const chart = (name: string) => new URL(`../../deploy/helm/${name}`, import.meta.url).pathname;
const kubectlArgs = () => ['--kubeconfig', cluster.kubeconfigPath, '-n', NS];
const imageValues = [
  '--set',
  'image.repository=tokenplane',
  '--set',
  `image.tag=${version}`,
  '--set',
  'image.pullPolicy=Never',
];

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(platform + path, {
    method,
    headers: {
      authorization: `Bearer ${adminKey}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json().catch(() => undefined) };
}

type Conditioned = {
  status?: { conditions?: { type: string; status: string }[]; tokenId?: string; id?: string };
};
const ready = (o: Conditioned | undefined) =>
  o?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
/** An Entity or ApiToken of the examples' namespace, as the cluster shows it now. */
const inAcme = async (plural: 'entities' | 'apitokens', name: string) =>
  (await cluster.kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: 'acme',
    plural,
    name,
  })) as Conditioned;

beforeAll(async () => {
  // Images of this checkout, not whatever dist/ holds.
  const images = Object.values(IMAGES).map(
    (make) => buildImage(make, join(work, 'images')).archive,
  );
  cluster = await startCluster({ images });
  const core = cluster.kc.makeApiClient(CoreV1Api);
  // SQLite's claim binds to a volume on the node (no provisioner here).
  const volume = join(work, 'platform-data');
  mkdirSync(volume);
  chownSync(volume, 65532, 65532);
  await core.createPersistentVolume({
    body: {
      metadata: { name: 'platform-data' },
      spec: {
        capacity: { storage: '1Gi' },
        accessModes: ['ReadWriteOnce'],
        hostPath: { path: volume, type: 'Directory' },
      },
    },
  });
  await helm.run(
    'install',
    'tokenplane',
    chart('tokenplane'),
    ...kubectlArgs(),
    '--create-namespace',
    ...imageValues,
    '--wait',
    '--timeout',
    '4m',
  );
  const keys = await core.readNamespacedSecret({ name: 'tokenplane-keys', namespace: NS });
  adminKey = Buffer.from(keys.data?.adminKey ?? '', 'base64').toString();
  platform = await cluster.forward(NS, 'tokenplane', 8080);
  // The operator's credential: the platform's administrator key, from the Secret the chart made.
  await core.createNamespacedSecret({
    namespace: NS,
    body: {
      metadata: { name: 'tokenplane-operator-credentials' },
      stringData: { apiKey: adminKey },
    },
  });
  await helm.run(
    'install',
    'tokenplane-operator',
    chart('tokenplane-operator'),
    ...kubectlArgs(),
    ...imageValues,
    '--set',
    `platform.endpoint=http://tokenplane.${NS}.svc:8080`,
    '--set',
    'resyncMs=10000',
    '--wait',
    '--timeout',
    '4m',
  );
}, 900_000);

afterAll(async () => {
  await cluster?.stop();
  helm.close();
  rmSync(work, { recursive: true, force: true });
}, 180_000);

describe('on a real node', () => {
  it('runs both charts from the image built here: the platform answers through its Service and one operator leads', async () => {
    expect((await fetch(`${platform}/readyz`)).status).toBe(200);
    expect(await (await fetch(`${platform}/metrics`)).text()).toContain('tokenplane_');
    const operator = await cluster.forward(NS, 'tokenplane-operator-metrics', 8080);
    expect((await fetch(`${operator}/readyz`)).status).toBe(200);
    expect(await (await fetch(`${operator}/metrics`)).text()).toContain('tokenplane_operator_');
    const pods = await cluster.kc.makeApiClient(CoreV1Api).listNamespacedPod({
      namespace: NS,
      labelSelector: 'app.kubernetes.io/name=tokenplane-operator',
    });
    expect(pods.items.filter((p) => p.status?.phase === 'Running')).toHaveLength(2);
    const lease = await waitFor('the operator Lease', async () => {
      const leases = await cluster.kc
        .makeApiClient(CoordinationV1Api)
        .listNamespacedLease({ namespace: NS });
      return leases.items.find((l) => l.spec?.holderIdentity);
    });
    expect(pods.items.map((p) => p.metadata?.name)).toContain(
      lease.spec?.holderIdentity?.split('_')[0],
    );
  });

  it('makes the examples Ready; the application reads the mounted token and gets 200', async () => {
    const objects = cluster.kc.makeApiClient(KubernetesObjectApi);
    for (const file of ['entities.yaml', 'apitokens.yaml', 'app.yaml']) {
      for (const doc of yamlDocs(`examples/kubernetes/${file}`)) await objects.create(doc);
    }
    const custom = cluster.kc.makeApiClient(CustomObjectsApi);
    for (const plural of ['entities', 'apitokens']) {
      await waitFor(
        `every ${plural} Ready`,
        async () => {
          const list = (await custom.listNamespacedCustomObject({
            group: GROUP,
            version: VERSION,
            namespace: 'acme',
            plural,
          })) as { items: Conditioned[] };
          return list.items.length > 0 && list.items.every(ready);
        },
        180_000,
        1000,
      );
    }
    const hint = await secretHint('initech-ci');
    await waitFor(
      'the application logging 200 with the token',
      async () => (await appLog()).includes(`200 ${hint}`),
      120_000,
      1000,
    );
  }, 400_000);

  it('a rotation on the platform reaches the application, and the replaced value stops at the end of its grace', async () => {
    const core = cluster.kc.makeApiClient(CoreV1Api);
    const before = await core.readNamespacedSecret({ name: 'initech-ci', namespace: 'acme' });
    const oldValue = Buffer.from(before.data?.token ?? '', 'base64').toString();
    const tokenId = Buffer.from(before.data?.tokenId ?? '', 'base64').toString();
    const oldHint = await secretHint('initech-ci');
    // The console's Rotate: the operator finds the new value at its next look (resync 10 s here),
    // writes it to the Secret, and rolls the Deployment (rolloutRestartTargets).
    expect(
      (await api('POST', `/v1/tokens/${tokenId}/rotate`, { gracePeriodSeconds: 5 })).status,
    ).toBe(200);
    const newHint = await waitFor(
      'the new value in the Secret',
      async () => {
        const hint = await secretHint('initech-ci');
        return hint !== oldHint && hint;
      },
      // The operator looks every 10 s, but shares two cores with the other suites in CI.
      300_000,
      500,
    );
    await waitFor(
      'the application logging 200 with the new value',
      async () => (await appLog()).includes(`200 ${newHint}`),
      300_000,
      1000,
    );
    await waitFor(
      'the replaced value refused after its grace',
      async () => {
        const { body } = await api('POST', '/v1/introspect', { token: oldValue });
        return body?.active === false;
      },
      60_000,
      1000,
    );
  }, 700_000);

  it('a new operator Pod takes the Lease when the leader dies mid-reconcile, and nothing is issued twice', async () => {
    const custom = cluster.kc.makeApiClient(CustomObjectsApi);
    const coordination = cluster.kc.makeApiClient(CoordinationV1Api);
    const leaseOf = async () =>
      (await coordination.listNamespacedLease({ namespace: NS })).items.find(
        (l) => l.spec?.holderIdentity,
      );
    const leader = (await leaseOf())?.spec?.holderIdentity ?? '';
    const names = ['burst-1', 'burst-2', 'burst-3'];
    for (const name of names) {
      await custom.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: 'acme',
        plural: 'apitokens',
        body: {
          apiVersion: `${GROUP}/${VERSION}`,
          kind: 'ApiToken',
          metadata: { name },
          spec: { entityRef: { name: 'acme' }, displayName: name },
        },
      });
    }
    await cluster.kc.makeApiClient(CoreV1Api).deleteNamespacedPod({
      name: leader.split('_')[0] ?? '',
      namespace: NS,
      gracePeriodSeconds: 0,
    });
    const next = await waitFor(
      'another Pod holding the Lease',
      async () => {
        const holder = (await leaseOf())?.spec?.holderIdentity;
        return holder && holder !== leader && holder;
      },
      120_000,
      500,
    );
    expect(next).not.toBe(leader);
    for (const name of names) {
      await waitFor(
        `${name} Ready`,
        async () => ready(await inAcme('apitokens', name)),
        180_000,
        1000,
      );
    }
    const acme = await inAcme('entities', 'acme');
    const { body } = await api('GET', `/v1/entities/${acme.status?.id}/tokens`);
    const tokenNames: string[] = body.items.map((t: { name: string }) => t.name);
    for (const name of names) expect(tokenNames.filter((n) => n === name)).toHaveLength(1);
  }, 400_000);

  it('deletionPolicy Orphan keeps the platform token, Delete revokes it; helm uninstall removes the operator and keeps the keys', async () => {
    const custom = cluster.kc.makeApiClient(CustomObjectsApi);
    const token = async (name: string) => (await inAcme('apitokens', name)).status?.tokenId;
    const orphaned = await token('initech-readonly');
    const deleted = await token('burst-1');
    for (const name of ['initech-readonly', 'burst-1']) {
      await custom.deleteNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: 'acme',
        plural: 'apitokens',
        name,
      });
    }
    await waitFor(
      'both ApiTokens gone',
      async () => {
        const list = (await custom.listNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace: 'acme',
          plural: 'apitokens',
        })) as { items: { metadata: { name: string } }[] };
        return !list.items.some((i) => ['initech-readonly', 'burst-1'].includes(i.metadata.name));
      },
      120_000,
      1000,
    );
    expect((await api('GET', `/v1/tokens/${orphaned}`)).status).toBe(200);
    expect((await api('GET', `/v1/tokens/${deleted}`)).status).toBe(404);

    await helm.run('uninstall', 'tokenplane-operator', ...kubectlArgs(), '--wait');
    const apps = cluster.kc.makeApiClient(AppsV1Api);
    expect(
      (await apps.listNamespacedDeployment({ namespace: NS })).items.map((d) => d.metadata?.name),
    ).toEqual(['tokenplane']);
    await helm.run('uninstall', 'tokenplane', ...kubectlArgs(), '--wait');
    const secrets = await cluster.kc
      .makeApiClient(CoreV1Api)
      .listNamespacedSecret({ namespace: NS });
    expect(secrets.items.map((s) => s.metadata?.name)).toContain('tokenplane-keys');
  }, 300_000);
});

async function secretHint(name: string): Promise<string> {
  const secret = await cluster.kc
    .makeApiClient(CoreV1Api)
    .readNamespacedSecret({ name, namespace: 'acme' });
  return secret.metadata?.annotations?.['tokenplane.dev/token-hint'] ?? '';
}

/** Every running `reporting` Pod's log. */
async function appLog(): Promise<string> {
  const core = cluster.kc.makeApiClient(CoreV1Api);
  const pods = await core.listNamespacedPod({ namespace: 'acme', labelSelector: 'app=reporting' });
  const logs = await Promise.all(
    pods.items
      .filter((p) => p.status?.phase === 'Running')
      .map((p) =>
        core
          .readNamespacedPodLog({ name: p.metadata?.name ?? '', namespace: 'acme' })
          .catch(() => ''),
      ),
  );
  return logs.join('\n');
}

// What the cluster's own controllers (kube-controller-manager, started with
// every test control plane) do with the operator's objects: the garbage
// collector removes a Secret whose ApiToken is gone, the namespace controller
// empties a namespace of tokenplane objects, the Deployment controller rolls a
// new ReplicaSet when a rotation restarts a workload.
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GROUP, VERSION } from '../../operator/crds/schemas.ts';
import type { RunningOperator } from '../../operator/operator.ts';
import { adminKubeConfig, createTestNamespace } from '../harness/kube.ts';
import { waitFor } from '../harness/wait.ts';
import {
  installCrds,
  namespaceWithRbac,
  resources,
  startPlatform,
  startTestOperator,
} from './helpers.ts';

const kc = adminKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const apps = kc.makeApiClient(AppsV1Api);
let platform: Awaited<ReturnType<typeof startPlatform>>;
const operators: RunningOperator[] = [];

const notFound = (err: unknown): boolean => err instanceof ApiException && err.code === 404;

beforeAll(async () => {
  await installCrds();
  platform = await startPlatform();
});

afterAll(async () => {
  for (const op of operators) await op.stop();
  await platform?.close();
});

/** An operator for `watchNamespace`, with its Lease (and the deploy/ RBAC for it) in a namespace of its own. */
async function operatorFor(watchNamespace: string): Promise<RunningOperator> {
  const leaseNamespace = await namespaceWithRbac('gc-lease');
  const op = await startTestOperator({ platform, leaseNamespace, watchNamespace });
  operators.push(op);
  return op;
}

/**
 * The garbage collector discovers new resource types every 30 s. Waits until it
 * handles ApiTokens: a foreground deletion of an ApiToken that owns a ConfigMap
 * completes only once the collector watches ApiTokens. (No operator watches
 * this namespace, so no finalizer of ours is involved.)
 */
async function collectorKnowsApiTokens(namespace: string): Promise<void> {
  const r = resources(namespace);
  const probe = await r.apiToken('gc-probe', { entityId: '00000000-0000-4000-8000-000000000000' });
  const uid = (probe as { metadata: { uid: string } }).metadata.uid;
  await core.createNamespacedConfigMap({
    namespace,
    body: {
      metadata: {
        name: 'gc-probe-dependent',
        ownerReferences: [
          { apiVersion: `${GROUP}/${VERSION}`, kind: 'ApiToken', name: 'gc-probe', uid },
        ],
      },
    },
  });
  await r.custom.deleteNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: 'apitokens',
    name: 'gc-probe',
    propagationPolicy: 'Foreground',
  });
  await waitFor(
    'the garbage collector to handle ApiTokens',
    () => r.gone('apitokens', 'gc-probe'),
    90_000,
  );
}

it('the garbage collector alone removes the Secret of a deleted ApiToken (operator stopped)', async () => {
  const ns = await createTestNamespace('gc');
  const r = resources(ns);
  const op = await operatorFor(ns);
  await r.entity('acme', { kind: 'Reseller', tier: 'Advanced' });
  await r.apiToken('app', { entityRef: { name: 'acme' } });
  await r.readyToken('app');
  await waitFor('Secret app', () => r.secret('app'));
  await op.stop();
  await collectorKnowsApiTokens(ns);

  // As after an uninstalled operator: nothing of ours releases the finalizer, so a person does.
  await r.custom.patchNamespacedCustomObject(
    {
      group: GROUP,
      version: VERSION,
      namespace: ns,
      plural: 'apitokens',
      name: 'app',
      body: { metadata: { finalizers: null } },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  await r.remove('apitokens', 'app');
  await waitFor('ApiToken app gone', () => r.gone('apitokens', 'app'));
  await waitFor(
    'Secret app removed by the garbage collector',
    async () => !(await r.secret('app')),
    60_000,
  );
});

it('a namespace holding Entities, ApiTokens and Secrets deletes cleanly with the operator running', async () => {
  const ns = await createTestNamespace('ns-del');
  const r = resources(ns);
  await operatorFor(ns);
  await r.entity('acme', { kind: 'Reseller', tier: 'Advanced' });
  await r.apiToken('one', { entityRef: { name: 'acme' } });
  await r.apiToken('two', { entityRef: { name: 'acme' } });
  const entityId = (await r.readyEntity('acme')).status?.id as string;
  const one = (await r.readyToken('one')).status?.tokenId as string;
  const two = (await r.readyToken('two')).status?.tokenId as string;
  await waitFor('both Secrets', async () => (await r.secret('one')) && r.secret('two'));

  await core.deleteNamespace({ name: ns });
  await waitFor(
    `namespace ${ns} gone`,
    () => core.readNamespace({ name: ns }).then(() => false, notFound),
    120_000,
  );
  // The operator's finalizers ran before the objects went: the platform objects are deleted too.
  await expect(platform.client.getToken(one)).rejects.toMatchObject({ status: 404 });
  await expect(platform.client.getToken(two)).rejects.toMatchObject({ status: 404 });
  await expect(platform.client.getEntity(entityId)).rejects.toMatchObject({ status: 404 });
});

it('rolloutRestartTargets: a rotation makes the Deployment controller roll a new ReplicaSet', async () => {
  const ns = await createTestNamespace('rollout');
  const r = resources(ns);
  await apps.createNamespacedDeployment({
    namespace: ns,
    body: {
      metadata: { name: 'consumer' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'consumer' } },
        template: {
          metadata: { labels: { app: 'consumer' } },
          spec: { containers: [{ name: 'app', image: 'registry.invalid/consumer:1' }] },
        },
      },
    },
  });
  const replicaSets = async () =>
    (await apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: 'app=consumer' })).items;
  await waitFor('the first ReplicaSet', async () => (await replicaSets()).length === 1);

  await operatorFor(ns);
  await r.entity('acme', { kind: 'Reseller', tier: 'Advanced' });
  await r.apiToken('rotating', {
    entityRef: { name: 'acme' },
    lifetime: '12s',
    renewBefore: '8s',
    rolloutRestartTargets: [{ kind: 'Deployment', name: 'consumer' }],
  });
  const rolled = await waitFor(
    'a ReplicaSet made for the restart',
    async () =>
      (await replicaSets()).find(
        (rs) => rs.spec?.template?.metadata?.annotations?.['tokenplane.dev/restartedAt'],
      ),
    60_000,
  );
  const owner = rolled.metadata?.ownerReferences?.[0];
  expect(owner).toMatchObject({ kind: 'Deployment', name: 'consumer' });
  expect((await replicaSets()).length).toBeGreaterThanOrEqual(2);
});

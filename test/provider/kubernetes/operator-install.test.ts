// examples/pulumi-kubernetes/operator run as documented, through the real
// pulumi CLI and the Kubernetes provider plugin (its Helm Chart resource) on a
// real control plane: up installs the CRDs, the namespace, the credentials
// Secret, the operator's RBAC and Deployment, and the declared Entity and
// ApiToken objects are accepted. The control plane runs no Pods, so the
// operator then runs here, as the ServiceAccount the chart made and under the
// chart's RBAC: the custom resources become Ready and the token lands in its
// Secret. Destroy removes everything again.
import {
  ApiextensionsV1Api,
  AppsV1Api,
  CustomObjectsApi,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node';
import type { Stack } from '@pulumi/pulumi/automation/index.js';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningOperator, startOperator } from '../../../operator/operator.ts';
import { loadKubeConfig, serviceAccountKubeconfig } from '../../harness/control-plane.ts';
import { waitFor } from '../../harness/wait.ts';
import { platformSnapshot } from '../fixtures.ts';
import { type KubeFixture, kubeFixture } from './fixtures.ts';

const GROUP = 'tokenplane.dev';
const VERSION = 'v1alpha1';
const SYSTEM = 'tokenplane-system';

let f: KubeFixture;
let stack: Stack;
let operator: RunningOperator | undefined;

beforeAll(async () => {
  f = await kubeFixture();
  stack = await f.env.inlineStack({
    projectName: 'tokenplane-operator',
    stackName: 'install',
    // Module exports are the stack outputs, as with `pulumi up` in the directory.
    program: async () => ({
      ...(await import('../../../examples/pulumi-kubernetes/operator/index.ts')),
    }),
  });
  await f.configure(stack);
  await stack.setAllConfig({
    'tokenplane-operator:platformEndpoint': { value: f.server.url },
    'tokenplane-operator:operatorApiKey': { value: f.server.adminKey, secret: true },
    // No kubelet here: the Deployment can never become ready.
    'tokenplane-operator:skipAwait': { value: 'true' },
  });
}, 180_000);

afterAll(async () => {
  await operator?.stop();
  await f?.close();
});

it('up installs the CRDs, the credentials and the operator, and the custom resources are accepted', async () => {
  const result = await stack.up();
  expect(result.summary.result).toBe('succeeded');
  const kc = loadKubeConfig(f.cp.kubeconfigPath);

  const crds = kc.makeApiClient(ApiextensionsV1Api);
  for (const name of ['entities.tokenplane.dev', 'apitokens.tokenplane.dev']) {
    const crd = await crds.readCustomResourceDefinition({ name });
    expect(crd.status?.conditions?.find((c) => c.type === 'Established')?.status).toBe('True');
  }
  const namespace = await f.core.readNamespace({ name: SYSTEM });
  expect(namespace.metadata?.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
  const credentials = await f.core.readNamespacedSecret({
    name: 'tokenplane-operator-credentials',
    namespace: SYSTEM,
  });
  expect(Buffer.from(credentials.data?.apiKey ?? '', 'base64').toString()).toBe(f.server.adminKey);

  const deployment = await kc
    .makeApiClient(AppsV1Api)
    .readNamespacedDeployment({ name: 'tokenplane-operator', namespace: SYSTEM });
  const env = deployment.spec?.template.spec?.containers[0]?.env ?? [];
  expect(env.find((e) => e.name === 'TOKENPLANE_ENDPOINT')?.value).toBe(f.server.url);
  expect(env.find((e) => e.name === 'TOKENPLANE_API_KEY')?.valueFrom?.secretKeyRef).toMatchObject({
    name: 'tokenplane-operator-credentials',
    key: 'apiKey',
  });
  await f.core.readNamespacedServiceAccount({ name: 'tokenplane-operator', namespace: SYSTEM });
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  await rbac.readClusterRole({ name: 'tokenplane-operator' });
  await rbac.readClusterRoleBinding({ name: 'tokenplane-operator' });

  const custom = kc.makeApiClient(CustomObjectsApi);
  const get = (plural: string, name: string) =>
    custom.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: 'acme',
      plural,
      name,
    });
  expect(await get('entities', 'acme')).toMatchObject({
    spec: { kind: 'Reseller', tier: 'Advanced' },
  });
  expect(await get('entities', 'initech')).toMatchObject({ spec: { parentRef: { name: 'acme' } } });
  expect(await get('apitokens', 'initech-reporting')).toMatchObject({
    spec: {
      entityRef: { name: 'initech' },
      lifetime: '720h',
      secretName: 'initech-reporting-token',
    },
  });
});

it('the operator, under the RBAC the chart installed, makes them Ready and writes the Secret', async () => {
  const account = await serviceAccountKubeconfig(f.cp, {
    namespace: SYSTEM,
    name: 'tokenplane-operator',
  });
  operator = await startOperator({
    kc: account.kubeConfig,
    endpoint: f.server.url,
    apiKey: f.server.adminKey,
    namespace: SYSTEM,
    metricsPort: -1,
    backoffBaseMs: 200,
    backoffMaxMs: 2000,
    log: pino({ level: 'silent' }),
    onLostLeadership: () => {},
  });
  const secret = await waitFor(
    'the Secret initech-reporting-token',
    () => f.core.readNamespacedSecret({ name: 'initech-reporting-token', namespace: 'acme' }),
    60_000,
    500,
  );
  const value = Buffer.from(secret.data?.token ?? '', 'base64').toString();
  expect(await f.client.introspect(value)).toMatchObject({ active: true });
  const { entities } = await platformSnapshot(f.client);
  expect(entities.map((e) => e.name).sort()).toEqual(['ACME Reseller', 'Initech']);
});

it('destroy removes the custom resources (the operator revokes their tokens) and the install', async () => {
  await stack.destroy();
  await operator?.stop();
  operator = undefined;
  const kc = loadKubeConfig(f.cp.kubeconfigPath);
  await expect(
    kc
      .makeApiClient(ApiextensionsV1Api)
      .readCustomResourceDefinition({ name: 'apitokens.tokenplane.dev' }),
  ).rejects.toMatchObject({ code: 404 });
  await expect(
    kc
      .makeApiClient(AppsV1Api)
      .readNamespacedDeployment({ name: 'tokenplane-operator', namespace: SYSTEM }),
  ).rejects.toMatchObject({ code: 404 });
  expect((await platformSnapshot(f.client)).tokens).toEqual([]);
});

// examples/kubernetes/ applied as a user would: every Entity and ApiToken Ready,
// the Lite customer's default token adopted, the app's Secret in place.
import { KubernetesObjectApi } from '@kubernetes/client-node';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningOperator, startOperator } from '../../operator/operator.ts';
import { adminKubeConfig } from '../harness/kube.ts';
import { waitFor } from '../harness/wait.ts';
import {
  installCrds,
  namespaceWithRbac,
  operatorKubeconfig,
  resources,
  startPlatform,
  yamlDocs,
} from './helpers.ts';

let ns = '';
let platform: Awaited<ReturnType<typeof startPlatform>>;
let operator: RunningOperator;

beforeAll(async () => {
  await installCrds();
  ns = await namespaceWithRbac('op-examples');
  platform = await startPlatform();
  operator = await startOperator({
    kc: (await operatorKubeconfig()).kubeConfig,
    endpoint: platform.url,
    apiKey: platform.adminKey,
    namespace: ns,
    watchNamespace: ns,
    metricsPort: -1,
    backoffBaseMs: 200,
    backoffMaxMs: 2000,
    log: pino({ level: process.env.OP_DEBUG ? 'debug' : 'silent' }, pino.destination(2)),
    onLostLeadership: () => {},
  });
});

afterAll(async () => {
  await operator?.stop();
  await platform?.close();
});

it('applies the examples and everything becomes Ready', async () => {
  const objects = adminKubeConfig().makeApiClient(KubernetesObjectApi);
  for (const file of ['entities.yaml', 'apitokens.yaml', 'app.yaml']) {
    for (const doc of yamlDocs(`examples/kubernetes/${file}`)) {
      if (doc.kind === 'Namespace') continue;
      (doc.metadata as { namespace: string }).namespace = ns;
      // Discovery of freshly installed CRDs can lag behind; retry until the kind is known.
      await waitFor(`${doc.kind} ${doc.metadata?.name} created`, () => objects.create(doc), 30_000);
    }
  }
  const r = resources(ns);
  for (const name of ['acme', 'initech', 'globex']) await r.readyEntity(name);
  for (const name of [
    'initech-ci',
    'initech-readonly',
    'globex-default',
    'initech-dashboard',
    'initech-billing',
  ]) {
    await r.readyToken(name);
  }
  const globex = await r.getEntity('globex');
  const adopted = await r.getToken('globex-default');
  expect(adopted?.status?.tokenId).toBe(globex?.status?.defaultTokenId);
  expect(adopted?.status?.secretName).toBe('globex-token');
  const ci = await waitFor('initech-ci secret', () => r.secret('initech-ci'));
  expect(ci.metadata?.labels?.app).toBe('reporting');
  expect(r.secretValue(ci, 'endpoint')).toBe(platform.url);
  const dashboard = await waitFor('dashboard secret', () => r.secret('initech-dashboard'));
  expect(r.secretValue(dashboard, 'type')).toBe('publishable');
  const billing = await r.getToken('initech-billing');
  expect(await platform.client.getToken(billing?.status?.tokenId as string)).toMatchObject({
    type: 'secret',
    requireSignedRequests: true,
    usageLimit: { limit: 100000, period: 'month' },
  });
  const readonly = await r.getToken('initech-readonly');
  expect((await platform.client.getToken(readonly?.status?.tokenId as string)).status).toBe(
    'disabled',
  );
});

// Two operator shards on one control plane (`shardSelector`), each under its
// own Lease: each reconciles only the Entities and ApiTokens its selector picks,
// their Secrets carry the shard label, no object is touched by both, and an
// object neither selects is left alone.
import { CoordinationV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningOperator } from '../../operator/operator.ts';
import { shardLeaseName } from '../../operator/runtime/shard.ts';
import { adminKubeConfig } from '../harness/kube.ts';
import { waitFor } from '../harness/wait.ts';
import {
  installCrds,
  namespaceWithRbac,
  resources,
  startPlatform,
  startTestOperator,
} from './helpers.ts';
import { createObject, type Plural } from './install.ts';

const SHARDS = ['a', 'b'] as const;
const selector = (shard: string) => `tokenplane.dev/shard=${shard}`;
let ns = '';
let r: ReturnType<typeof resources>;
let platform: Awaited<ReturnType<typeof startPlatform>>;
const operators: RunningOperator[] = [];

beforeAll(async () => {
  await installCrds();
  ns = await namespaceWithRbac('op-shards');
  await allowShardLeases();
  platform = await startPlatform();
  r = resources(ns);
  for (const shard of SHARDS) {
    operators.push(
      await startTestOperator({
        platform,
        leaseNamespace: ns,
        watchNamespace: ns,
        shardSelector: selector(shard),
        identity: `shard-${shard}`,
      }),
    );
  }
});

/** The deploy/ Role names its one Lease; running shards, a person lists each shard's Lease. */
async function allowShardLeases() {
  const rbac = adminKubeConfig().makeApiClient(RbacAuthorizationV1Api);
  const name = 'tokenplane-operator-leader-election';
  const role = await rbac.readNamespacedRole({ namespace: ns, name });
  for (const rule of role.rules ?? []) {
    if (rule.resourceNames)
      rule.resourceNames = SHARDS.map((s) => shardLeaseName('tokenplane-operator', selector(s)));
  }
  await rbac.replaceNamespacedRole({ namespace: ns, name, body: role });
}

afterAll(async () => {
  await Promise.all(operators.map((o) => o.stop()));
  await platform?.close();
});

const create = (plural: Plural, kind: string, name: string, shard: string | null, spec: object) =>
  createObject(r.custom, ns, {
    plural,
    kind,
    name,
    spec,
    labels: shard ? { 'tokenplane.dev/shard': shard } : undefined,
  });

it('two shards reconcile disjoint objects, each under its own Lease', async () => {
  await waitFor('both shards lead', async () => operators.every((o) => o.isLeader && o.ready));
  const tokensOf = (shard: string) => [0, 1, 2].map((i) => `${shard}-token-${i}`);
  for (const shard of SHARDS) {
    await create('entities', 'Entity', `${shard}-customer`, shard, {
      kind: 'Customer',
      tier: 'Advanced',
    });
    for (const name of tokensOf(shard))
      await create('apitokens', 'ApiToken', name, shard, {
        entityRef: { name: `${shard}-customer` },
      });
  }
  // Selected by neither shard.
  await create('entities', 'Entity', 'unsharded', null, { kind: 'Customer', tier: 'Advanced' });

  for (const shard of SHARDS) {
    await r.readyEntity(`${shard}-customer`, 90_000);
    for (const name of tokensOf(shard)) {
      await r.readyToken(name, 90_000);
      const secret = await waitFor(`Secret ${name}`, () => r.secret(name), 90_000);
      expect(secret.metadata?.labels?.['tokenplane.dev/shard']).toBe(shard);
    }
  }

  // Every Event about an object came from its own shard's operator, and each shard wrote some.
  const events = await waitFor('Events of both shards', async () => {
    const list = await r.events();
    const from = new Set(list.map((e) => e.reportingInstance));
    return from.has('shard-a') && from.has('shard-b') ? list : undefined;
  });
  for (const event of events) {
    const shard = event.regarding?.name?.split('-')[0];
    expect(event.reportingInstance).toBe(`shard-${shard}`);
  }

  // The unsharded Entity has no finalizer, status or Events: nobody touched it.
  const unsharded = await r.getEntity('unsharded');
  expect(unsharded?.metadata.finalizers ?? []).toEqual([]);
  expect(unsharded?.status).toBeUndefined();
  expect(events.filter((e) => e.regarding?.name === 'unsharded')).toEqual([]);

  // One Lease per shard, held by that shard.
  const leases = adminKubeConfig().makeApiClient(CoordinationV1Api);
  for (const shard of SHARDS) {
    const lease = await leases.readNamespacedLease({
      namespace: ns,
      name: shardLeaseName('tokenplane-operator', selector(shard)),
    });
    expect(lease.spec?.holderIdentity).toBe(`shard-${shard}`);
  }
});

// Shared setup of the operator suites: CRDs and the deploy/ RBAC on the shared
// control plane, a ServiceAccount kubeconfig, a real platform server, and
// readers that wait for objects (no timing assertions: everything waits with a
// timeout, through test/harness/wait.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Secret,
} from '@kubernetes/client-node';
import pino, { type Logger } from 'pino';
import { TokenplaneClient } from '../../core/client/index.ts';
import {
  type ApiTokenObject,
  type EntityObject,
  GROUP,
  VERSION,
} from '../../operator/crds/schemas.ts';
import { isStatus, Kube } from '../../operator/kube.ts';
import { type RunningOperator, startOperator } from '../../operator/operator.ts';
import { startServer } from '../../platform/main.ts';
import { serviceAccountKubeconfig } from '../harness/control-plane.ts';
import { adminKubeConfig, createTestNamespace, sharedControlPlane } from '../harness/kube.ts';
import { waitFor } from '../harness/wait.ts';
import type { Plural } from './install.ts';
import * as install from './install.ts';

export { yamlDocs } from './install.ts';

export const installCrds = (kc: KubeConfig = adminKubeConfig()) => install.installCrds(kc);
export const installRbac = (leaseNamespace: string, kc: KubeConfig = adminKubeConfig()) =>
  install.installRbac(leaseNamespace, kc);

/** A fresh namespace holding the deploy/ RBAC: an operator may keep its Lease there. */
export async function namespaceWithRbac(prefix: string): Promise<string> {
  const ns = await createTestNamespace(prefix);
  await installRbac(ns);
  return ns;
}

/** A kubeconfig for the operator's ServiceAccount: it runs under deploy/ RBAC, not as admin. */
export async function operatorKubeconfig() {
  return serviceAccountKubeconfig(sharedControlPlane(), {
    namespace: 'tokenplane-system',
    name: 'tokenplane-operator',
  });
}

/**
 * The operator in-process under the deploy/ ServiceAccount, with short test
 * timings, its Lease in `leaseNamespace` (RBAC installed there) and watching
 * `watchNamespace` only.
 */
export async function startTestOperator(opts: {
  platform: { url: string; adminKey: string };
  leaseNamespace: string;
  watchNamespace: string;
  log?: Logger;
  shardSelector?: string;
  identity?: string;
  /** Serve /metrics on 127.0.0.1 at this port (0: any free one); none by default. */
  metricsPort?: number;
}): Promise<RunningOperator> {
  const sa = await operatorKubeconfig();
  return startOperator({
    kc: sa.kubeConfig,
    endpoint: opts.platform.url,
    apiKey: opts.platform.adminKey,
    namespace: opts.leaseNamespace,
    watchNamespace: opts.watchNamespace,
    ...(opts.shardSelector !== undefined ? { shardSelector: opts.shardSelector } : {}),
    ...(opts.identity !== undefined ? { identity: opts.identity } : {}),
    resyncMs: 3000,
    backoffBaseMs: 200,
    backoffMaxMs: 2000,
    metricsPort: opts.metricsPort ?? -1,
    metricsHost: '127.0.0.1',
    leaseDurationMs: 4000,
    renewDeadlineMs: 3000,
    retryPeriodMs: 500,
    log: opts.log ?? pino({ level: 'silent' }),
    onLostLeadership: () => {},
  });
}

export async function startPlatform() {
  const dataDir = mkdtempSync(join(tmpdir(), 'tokenplane-op-'));
  const server = await startServer({ port: 0, dataDir, logger: false, env: {} });
  const client = new TokenplaneClient({ endpoint: server.url, apiKey: server.adminKey });
  return {
    ...server,
    client,
    async close() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Admin-side access to the test namespace's tokenplane objects. */
export function resources(namespace: string, kc: KubeConfig = adminKubeConfig()) {
  const kube = new Kube(kc);
  const { custom, core, events } = kube;
  const create = (plural: Plural, kind: string, name: string, spec: object) =>
    install.createObject(custom, namespace, { plural, kind, name, spec });
  const get = async <T>(plural: Plural, name: string): Promise<T | undefined> => {
    try {
      return (await custom.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural,
        name,
      })) as T;
    } catch (err) {
      if (isStatus(err, 404)) return undefined;
      throw err;
    }
  };
  const condition = (obj: EntityObject | ApiTokenObject | undefined, type = 'Ready') =>
    obj?.status?.conditions?.find((c) => c.type === type);
  return {
    custom,
    core,
    entity: (name: string, spec: object) => create('entities', 'Entity', name, spec),
    apiToken: (name: string, spec: object) => create('apitokens', 'ApiToken', name, spec),
    getEntity: (name: string) => get<EntityObject>('entities', name),
    getToken: (name: string) => get<ApiTokenObject>('apitokens', name),
    condition,
    patchSpec: (plural: Plural, name: string, spec: object) =>
      custom.patchNamespacedCustomObject(
        { group: GROUP, version: VERSION, namespace, plural, name, body: { spec } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    remove: (plural: Plural, name: string) =>
      custom.deleteNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural,
        name,
      }),
    gone: async (plural: Plural, name: string) => (await get(plural, name)) === undefined,
    async readyEntity(name: string, timeoutMs?: number) {
      return waitFor(
        `Entity ${name} Ready`,
        async () => {
          const e = await get<EntityObject>('entities', name);
          return condition(e)?.status === 'True' && e?.status?.id ? e : undefined;
        },
        timeoutMs,
      );
    },
    async readyToken(name: string, timeoutMs?: number) {
      return waitFor(
        `ApiToken ${name} Ready`,
        async () => {
          const t = await get<ApiTokenObject>('apitokens', name);
          return condition(t)?.status === 'True' && t?.status?.tokenId ? t : undefined;
        },
        timeoutMs,
      );
    },
    async reason(plural: Plural, name: string, reason: string, timeoutMs?: number) {
      return waitFor(
        `${plural}/${name} reason ${reason}`,
        async () => {
          const o = await get<EntityObject | ApiTokenObject>(plural, name);
          return condition(o)?.reason === reason ? o : undefined;
        },
        timeoutMs,
      );
    },
    secret: (name: string) => kube.readSecret(namespace, name),
    secretValue: (s: V1Secret | undefined, key = 'token') =>
      s?.data?.[key] === undefined
        ? undefined
        : Buffer.from(s.data[key], 'base64').toString('utf8'),
    async events() {
      return (await events.listNamespacedEvent({ namespace })).items;
    },
  };
}

/**
 * The operator's Kubernetes calls, in one place: custom objects (finalizers by
 * merge patch guarded by resourceVersion, status by merge patch), Secrets by
 * server-side apply with one field manager, and Events.
 */
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Secret,
} from '@kubernetes/client-node';
import { GROUP, type KINDS, VERSION } from './crds/schemas.ts';

export const FIELD_MANAGER = 'tokenplane-operator';
export const FINALIZER = 'tokenplane.dev/finalizer';

type Plural = (typeof KINDS)[keyof typeof KINDS]['plural'];

const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const apply = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);

/** A list call's page and selector. */
export type ListQuery = { limit?: number; continue?: string; labelSelector?: string };

const listParams = (q: ListQuery) => ({
  limit: q.limit,
  _continue: q.continue,
  labelSelector: q.labelSelector,
});

export function isStatus(err: unknown, code: number): boolean {
  return err instanceof ApiException && err.code === code;
}

export class Kube {
  readonly custom: CustomObjectsApi;
  readonly core: CoreV1Api;
  readonly events: EventsV1Api;
  readonly apps: AppsV1Api;

  constructor(kc: KubeConfig) {
    this.apps = kc.makeApiClient(AppsV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.core = kc.makeApiClient(CoreV1Api);
    this.events = kc.makeApiClient(EventsV1Api);
  }

  /** One page of custom objects (`limit`/`continue`), in a namespace or in all. */
  list(plural: Plural, page: ListQuery & { namespace?: string }) {
    const { namespace, ...query } = page;
    const args = { group: GROUP, version: VERSION, plural, ...listParams(query) };
    return namespace
      ? this.custom.listNamespacedCustomObject({ ...args, namespace })
      : this.custom.listClusterCustomObject(args);
  }

  /** One page of Secrets matching `labelSelector`. */
  listSecrets(page: ListQuery & { namespace?: string }) {
    const { namespace, ...query } = page;
    const args = listParams(query);
    return namespace
      ? this.core.listNamespacedSecret({ ...args, namespace })
      : this.core.listSecretForAllNamespaces(args);
  }

  /** Sets the finalizers; fails with 409 if the object changed since `resourceVersion`. */
  setFinalizers(
    plural: Plural,
    meta: { namespace: string; name: string; resourceVersion?: string },
    finalizers: string[],
  ): Promise<unknown> {
    return this.custom.patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        plural,
        namespace: meta.namespace,
        name: meta.name,
        body: { metadata: { finalizers, resourceVersion: meta.resourceVersion } },
      },
      merge,
    );
  }

  patchStatus(plural: Plural, namespace: string, name: string, status: object): Promise<unknown> {
    return this.custom.patchNamespacedCustomObjectStatus(
      { group: GROUP, version: VERSION, plural, namespace, name, body: { status } },
      merge,
    );
  }

  async readSecret(namespace: string, name: string): Promise<V1Secret | undefined> {
    try {
      return await this.core.readNamespacedSecret({ namespace, name });
    } catch (err) {
      if (isStatus(err, 404)) return undefined;
      throw err;
    }
  }

  applySecret(
    secret: V1Secret & { metadata: { name: string; namespace: string } },
  ): Promise<V1Secret> {
    return this.core.patchNamespacedSecret(
      {
        namespace: secret.metadata.namespace,
        name: secret.metadata.name,
        body: secret,
        fieldManager: FIELD_MANAGER,
        force: true,
      },
      apply,
    );
  }

  /** `kubectl rollout restart`: a new pod-template annotation rolls the workload. */
  async restartWorkload(
    namespace: string,
    kind: 'Deployment' | 'StatefulSet' | 'DaemonSet',
    name: string,
    at: string,
  ): Promise<void> {
    const body = {
      spec: { template: { metadata: { annotations: { 'tokenplane.dev/restartedAt': at } } } },
    };
    const args = { namespace, name, body, fieldManager: FIELD_MANAGER };
    if (kind === 'Deployment') await this.apps.patchNamespacedDeployment(args, merge);
    else if (kind === 'StatefulSet') await this.apps.patchNamespacedStatefulSet(args, merge);
    else await this.apps.patchNamespacedDaemonSet(args, merge);
  }

  /** Names of the workloads of `kind` in `namespace` that match a label selector. */
  async listWorkloads(
    namespace: string,
    kind: 'Deployment' | 'StatefulSet' | 'DaemonSet',
    labelSelector: string,
  ): Promise<string[]> {
    const args = { namespace, labelSelector };
    const list =
      kind === 'Deployment'
        ? await this.apps.listNamespacedDeployment(args)
        : kind === 'StatefulSet'
          ? await this.apps.listNamespacedStatefulSet(args)
          : await this.apps.listNamespacedDaemonSet(args);
    return list.items.map((w) => w.metadata?.name).filter((n): n is string => Boolean(n));
  }

  async deleteSecret(namespace: string, name: string, uid?: string): Promise<void> {
    try {
      await this.core.deleteNamespacedSecret({
        namespace,
        name,
        ...(uid ? { body: { preconditions: { uid } } } : {}),
      });
    } catch (err) {
      if (!isStatus(err, 404) && !isStatus(err, 409)) throw err;
    }
  }
}

/**
 * A MicroTime as the API server parses it (RFC 3339 with exactly six fractional
 * digits). client-node would send a Date with three, which is refused with 400.
 */
export function microTime(date: Date = new Date()): Date {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z') as unknown as Date;
}

/**
 * client-node 2.0.1 builds a new undici Agent for every request, so every call
 * opens a fresh TLS connection (and parses the CA again): slow, and hundreds of
 * MB of RSS under load. One Agent per KubeConfig restores keep-alive reuse.
 * Every request (watches included) passes `onRequest`, which counts them.
 */
export function shareDispatcher(
  kc: KubeConfig,
  onRequest: (method: string) => void = () => {},
): KubeConfig {
  const target = kc as unknown as {
    createDispatcher(cluster: unknown, options: unknown): unknown;
    __sharedDispatcher?: boolean;
  };
  if (target.__sharedDispatcher) return kc;
  const create = target.createDispatcher.bind(kc);
  const cache = new Map<string, unknown>();
  target.createDispatcher = (cluster, options) => {
    const key = JSON.stringify([
      (cluster as { server?: string } | null)?.server,
      kc.getCurrentUser()?.name,
    ]);
    if (!cache.has(key)) cache.set(key, counting(create(cluster, options), onRequest));
    return cache.get(key);
  };
  target.__sharedDispatcher = true;
  return kc;
}

function counting(dispatcher: unknown, onRequest: (method: string) => void): unknown {
  const agent = dispatcher as {
    dispatch?: (opts: { method?: string }, handler: unknown) => boolean;
  };
  const dispatch = agent?.dispatch?.bind(agent);
  if (!dispatch) return dispatcher;
  agent.dispatch = (opts, handler) => {
    onRequest(opts.method ?? 'GET');
    return dispatch(opts, handler);
  };
  return dispatcher;
}

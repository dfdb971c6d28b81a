/**
 * What the informers keep of an Entity or ApiToken: the fields a reconcile or
 * a trigger reads. managedFields (one entry per writer, often larger than the
 * spec), annotations such as kubectl's last-applied-configuration, and
 * timestamps no decision uses stay out of the cache — at 10,000 objects they
 * were most of the heap.
 */
import type { KubernetesObject, V1ObjectMeta } from '@kubernetes/client-node';

type Kept = Pick<
  V1ObjectMeta,
  | 'name'
  | 'namespace'
  | 'uid'
  | 'generation'
  | 'resourceVersion'
  | 'deletionTimestamp'
  | 'finalizers'
  | 'labels'
>;

export function keepMetadata(meta: V1ObjectMeta | undefined): Kept {
  const m = meta ?? {};
  return {
    name: m.name,
    namespace: m.namespace,
    uid: m.uid,
    generation: m.generation,
    resourceVersion: m.resourceVersion,
    ...(m.deletionTimestamp ? { deletionTimestamp: m.deletionTimestamp } : {}),
    ...(m.finalizers?.length ? { finalizers: m.finalizers } : {}),
    ...(m.labels ? { labels: m.labels } : {}),
  };
}

/** A custom object as the controllers read it: kind, kept metadata, spec and status. */
export function keepCustomObject<T>(obj: KubernetesObject): T {
  const { apiVersion, kind, spec, status } = obj as KubernetesObject & {
    spec?: unknown;
    status?: unknown;
  };
  return { apiVersion, kind, metadata: keepMetadata(obj.metadata), spec, status } as T;
}

// Installs the CRDs and the deploy/ RBAC with a given admin KubeConfig; free of
// vitest so that bench/operator.ts can use it too.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ApiException,
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
} from '@kubernetes/client-node';
// Not re-exported by the package index; needed to turn raw YAML into the typed model.
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';
import YAML from 'yaml';
import { API_VERSION, GROUP, VERSION } from '../../operator/crds/schemas.ts';
import { waitFor } from '../harness/wait.ts';

const root = new URL('../../', import.meta.url).pathname;

const ignoreConflict = (err: unknown) => {
  if (!(err instanceof ApiException && err.code === 409)) throw err;
};

export type Plural = 'entities' | 'apitokens';

/** Creates an Entity or ApiToken in a namespace, with labels when given (shards select by one). */
export function createObject(
  custom: CustomObjectsApi,
  namespace: string,
  object: {
    plural: Plural;
    kind: string;
    name: string;
    spec: object;
    labels?: Record<string, string>;
  },
) {
  const { plural, kind, name, spec, labels } = object;
  return custom.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural,
    body: { apiVersion: API_VERSION, kind, metadata: { name, labels }, spec },
  });
}

export function yamlDocs(path: string): KubernetesObject[] {
  return YAML.parseAllDocuments(readFileSync(join(root, path), 'utf8'))
    .map((d) => d.toJSON() as KubernetesObject)
    .filter(Boolean);
}

/** Installs the CRDs from crds/ (once per control plane) and waits until they serve; both at once. */
export async function installCrds(kc: KubeConfig): Promise<void> {
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const crds = [
    { file: 'crds/entities.tokenplane.dev.yaml', plural: 'entities' },
    { file: 'crds/apitokens.tokenplane.dev.yaml', plural: 'apitokens' },
  ];
  await Promise.all(
    crds.map(async ({ file, plural }) => {
      const [crd] = yamlDocs(file);
      // The typed client serializes from its model: turn the YAML (x-kubernetes-*, default) into it first.
      const body = ObjectSerializer.deserialize(crd, 'V1CustomResourceDefinition');
      await ext.createCustomResourceDefinition({ body }).catch(ignoreConflict);
      // Served once the API server has established it, a moment after the create.
      await waitFor(
        `${plural} served`,
        () => custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural }),
        30_000,
        50,
      );
    }),
  );
}

/**
 * Applies deploy/rbac.yaml; the leader-election Role and RoleBinding are also
 * copied into `leaseNamespace`, so each suite elects on a Lease of its own.
 */
export async function installRbac(leaseNamespace: string, kc: KubeConfig): Promise<void> {
  const objects = kc.makeApiClient(KubernetesObjectApi);
  const core = kc.makeApiClient(CoreV1Api);
  await core
    .createNamespace({ body: { metadata: { name: 'tokenplane-system' } } })
    .catch(ignoreConflict);
  for (const doc of yamlDocs('deploy/rbac.yaml')) {
    await objects.create(doc).catch(ignoreConflict);
    if (doc.kind === 'Role' || doc.kind === 'RoleBinding') {
      const copy = structuredClone(doc);
      (copy.metadata as { namespace: string }).namespace = leaseNamespace;
      await objects.create(copy).catch(ignoreConflict);
    }
  }
}

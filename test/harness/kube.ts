// Test-side access to the control plane started by kube-global-setup.ts.
// Import only from test files of the `kube` vitest project.
import { randomBytes } from 'node:crypto';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { inject } from 'vitest';
import { type ControlPlane, loadKubeConfig } from './control-plane.ts';

export type SharedControlPlane = Pick<
  ControlPlane,
  'kubeconfigPath' | 'server' | 'caPem' | 'dir' | 'adminToken'
>;

/** The run's shared control plane. */
export function sharedControlPlane(): SharedControlPlane {
  return {
    kubeconfigPath: inject('kubeconfig'),
    server: inject('kubeServer'),
    caPem: inject('kubeCaPem'),
    dir: inject('kubeDir'),
    adminToken: inject('kubeAdminToken'),
  };
}

/** A KubeConfig for the admin (system:masters). */
export function adminKubeConfig(): KubeConfig {
  return loadKubeConfig(inject('kubeconfig'));
}

/** Creates a namespace with a unique name (`<prefix>-<random>`) and returns its name. */
export async function createTestNamespace(
  prefix: string,
  kc: KubeConfig = adminKubeConfig(),
): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
  return name;
}

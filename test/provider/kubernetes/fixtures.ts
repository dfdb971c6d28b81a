// Set-up of the @pulumi/kubernetes suites: the provider fixture (a real platform,
// the real pulumi CLI) plus a control plane of their own (etcd, kube-apiserver,
// kube-controller-manager — the provider deletes with foreground propagation,
// which only the garbage collector completes), and the stack settings a user
// would set with `pulumi config set`.

import { delimiter, join } from 'node:path';
import { CoreV1Api, KubernetesObjectApi } from '@kubernetes/client-node';
import type { Stack } from '@pulumi/pulumi/automation/index.js';
import { isExecutable } from '../../engines/engines.ts';
import {
  type ControlPlane,
  loadKubeConfig,
  startControlPlane,
} from '../../harness/control-plane.ts';
import { type Fixture, fixture } from '../fixtures.ts';

const PLUGIN = 'pulumi-resource-kubernetes';

export type KubeFixture = Fixture & {
  cp: ControlPlane;
  core: CoreV1Api;
  objects: KubernetesObjectApi;
  /** tokenplane and kubernetes settings of a stack, as the README sets them. */
  configure(stack: Stack, opts?: { secretMutable?: boolean }): Promise<void>;
};

/**
 * The CLI runs the Kubernetes provider plugin it finds on PATH: the one `npm run
 * engines` builds beside the CLI, or one of your own earlier on PATH.
 */
export function requireKubernetesPlugin(path: string): string {
  const dirs = path.split(delimiter).filter(Boolean);
  const found = dirs.map((d) => join(d, PLUGIN)).find(isExecutable);
  if (found) return found;
  throw new Error(
    `the Kubernetes provider plugin (${PLUGIN}) is not built: not beside the pulumi CLI ` +
      `(${dirs[0]}) nor elsewhere on PATH. Run \`npm run engines\` first (it builds it from ` +
      'Go modules into the per-user cache).',
  );
}

export async function kubeFixture(): Promise<KubeFixture> {
  const [f, cp] = await Promise.all([fixture(), startControlPlane()]);
  requireKubernetesPlugin(f.env.envVars.PATH ?? '');
  const kc = loadKubeConfig(cp.kubeconfigPath);
  return {
    ...f,
    cp,
    core: kc.makeApiClient(CoreV1Api),
    objects: kc.makeApiClient(KubernetesObjectApi),
    async configure(stack, opts = {}) {
      await stack.setAllConfig({
        'tokenplane:endpoint': { value: f.server.url },
        'tokenplane:apiKey': { value: f.server.adminKey, secret: true },
        // A path: the kubeconfig itself (with its credential) stays out of the state.
        'kubernetes:kubeconfig': { value: cp.kubeconfigPath },
        ...(opts.secretMutable === false
          ? {}
          : { 'kubernetes:enableSecretMutable': { value: 'true' } }),
      });
    },
    async close() {
      await Promise.all([f.close(), cp.stop()]);
    },
  };
}

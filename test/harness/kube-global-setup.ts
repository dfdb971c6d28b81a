// vitest globalSetup of the `kube` project: builds the test engines that are
// missing (a fresh machine: `npm test` alone is enough; progress on stderr),
// then starts one control plane (etcd, kube-apiserver, kube-controller-manager)
// for the whole run, shared by every kube suite. Tests read it with inject():
//
//   import { inject } from 'vitest';
//   const kc = loadKubeConfig(inject('kubeconfig'));
//
// Suites share the cluster: give each its own namespace (and unique names for
// cluster-scoped objects such as CRDs and ClusterRoles).
import type { TestProject } from 'vitest/node';
import { ensureEngines } from '../engines/ensure.ts';
import { startControlPlane } from './control-plane.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Path of the admin kubeconfig (user `admin`, group `system:masters`). */
    kubeconfig: string;
    /** https://127.0.0.1:<port> */
    kubeServer: string;
    kubeAdminToken: string;
    /** PEM bundle that verifies the API server's certificate. */
    kubeCaPem: string;
    /** The control plane's temporary directory (removed at the end of the run). */
    kubeDir: string;
    /** Milliseconds from starting etcd to the control plane ready (controller manager included). */
    kubeStartupMs: number;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // All of them, not only the control plane's: kube suites may drive helm or pulumi too.
  await ensureEngines();
  const cp = await startControlPlane();
  process.stderr.write(
    `[kube] control plane ready in ${cp.startupMs} ms at ${cp.server} (${cp.dir})\n`,
  );
  project.provide('kubeconfig', cp.kubeconfigPath);
  project.provide('kubeServer', cp.server);
  project.provide('kubeAdminToken', cp.adminToken);
  project.provide('kubeCaPem', cp.caPem);
  project.provide('kubeDir', cp.dir);
  project.provide('kubeStartupMs', cp.startupMs);
  return () => cp.stop();
}

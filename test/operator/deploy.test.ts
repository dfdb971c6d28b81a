// deploy/ manifests are accepted by the real API server (server-side dry run with
// full validation), and the Deployment keeps its promises: 2 replicas, probes,
// resources, non-root, read-only root filesystem.
import { KubernetesObjectApi } from '@kubernetes/client-node';
import { beforeAll, expect, it } from 'vitest';
import { adminKubeConfig } from '../harness/kube.ts';
import { installCrds, installRbac, yamlDocs } from './helpers.ts';

beforeAll(async () => {
  await installCrds();
  await installRbac('tokenplane-system');
});

it('deploy/ manifests pass server-side validation', async () => {
  const objects = adminKubeConfig().makeApiClient(KubernetesObjectApi);
  for (const file of ['deploy/namespace.yaml', 'deploy/rbac.yaml', 'deploy/deployment.yaml']) {
    for (const doc of yamlDocs(file)) {
      await objects
        .create(doc, undefined, 'All')
        .catch((err: { code?: number; body?: unknown }) => {
          if (err.code !== 409)
            throw new Error(`${file} ${doc.kind}: ${String(err.body).slice(0, 500)}`);
        });
    }
  }
});

it('the Deployment runs 2 non-root replicas with probes, limits and a read-only root', () => {
  const [deployment] = yamlDocs('deploy/deployment.yaml') as unknown as {
    spec: {
      replicas: number;
      template: {
        spec: {
          securityContext: { runAsNonRoot: boolean };
          containers: {
            livenessProbe?: object;
            readinessProbe?: object;
            resources: { requests: object; limits: object };
            securityContext: { readOnlyRootFilesystem: boolean; allowPrivilegeEscalation: boolean };
          }[];
        };
      };
    };
  }[];
  const spec = deployment?.spec;
  expect(spec?.replicas).toBe(2);
  expect(spec?.template.spec.securityContext.runAsNonRoot).toBe(true);
  const [container] = spec?.template.spec.containers ?? [];
  expect(container?.livenessProbe).toBeTruthy();
  expect(container?.readinessProbe).toBeTruthy();
  expect(container?.resources.requests).toBeTruthy();
  expect(container?.resources.limits).toBeTruthy();
  expect(container?.securityContext).toMatchObject({
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
  });
});

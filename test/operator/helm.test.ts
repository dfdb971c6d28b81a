// deploy/helm/tokenplane-operator through real Helm: lint, template, install into
// the real control plane. The values a user sets reach the objects the API
// server keeps; the RBAC it installs is deploy/rbac.yaml's; and the operator,
// started the way the chart's Deployment says (args, env, its ServiceAccount),
// reconciles under that RBAC. No kubelet runs here, so the test plays its part.
import {
  AppsV1Api,
  CoreV1Api,
  type KubernetesObject,
  RbacAuthorizationV1Api,
  type V1Deployment,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningCli, runCli } from '../harness/cli.ts';
import { serviceAccountKubeconfig } from '../harness/control-plane.ts';
import { Helm, rendered } from '../harness/helm.ts';
import { adminKubeConfig, createTestNamespace, sharedControlPlane } from '../harness/kube.ts';
import { freePort } from '../harness/ports.ts';
import { waitFor } from '../harness/wait.ts';
import { installCrds, resources, startPlatform, yamlDocs } from './helpers.ts';

const chart = new URL('../../deploy/helm/tokenplane-operator', import.meta.url).pathname;
let platform: Awaited<ReturnType<typeof startPlatform>>;
const running: RunningCli[] = [];

beforeAll(async () => {
  await installCrds();
  platform = await startPlatform();
});

afterAll(async () => {
  for (const cli of running.splice(0)) {
    cli.interrupt();
    await cli.done;
  }
  await platform?.close();
  helmCli.close();
});

const helmCli = new Helm();
const helm = (...args: string[]) => helmCli.run(...args);
/** `helm <verb>` of a release in its namespace on the shared control plane. */
const onCluster = (verb: 'install' | 'uninstall', release: string, ...args: string[]) =>
  helm(verb, ...args, '--namespace', release, '--kubeconfig', sharedControlPlane().kubeconfigPath);
const valuesFile = (values: object) => helmCli.valuesFile(values);

/** What RBAC grants, without labels and names: kind, namespace, rules, roleRef, subjects. */
function grants(objects: KubernetesObject[], rename: (name: string) => string) {
  const rbac = new Set([
    'ServiceAccount',
    'ClusterRole',
    'ClusterRoleBinding',
    'Role',
    'RoleBinding',
  ]);
  return objects
    .filter((o) => rbac.has(o.kind ?? ''))
    .map((o) => {
      const { rules, roleRef, subjects } = o as {
        rules?: { resourceNames?: string[] }[];
        roleRef?: { name: string };
        subjects?: { name: string }[];
      };
      return {
        kind: o.kind,
        name: rename(o.metadata?.name ?? ''),
        namespace: o.metadata?.namespace,
        // The Lease's name follows the release too.
        rules: rules?.map((r) =>
          r.resourceNames ? { ...r, resourceNames: r.resourceNames.map(rename) } : r,
        ),
        roleRef: roleRef && { ...roleRef, name: rename(roleRef.name) },
        subjects: subjects?.map((s) => ({ ...s, name: rename(s.name) })),
      };
    })
    .sort((a, b) => `${a.kind}/${a.name}`.localeCompare(`${b.kind}/${b.name}`));
}

describe('the Helm chart', () => {
  it('passes helm lint --strict, and its schema refuses a wrong value with its path', async () => {
    const { stdout } = await helm('lint', chart, '--strict');
    expect(stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    const bad = await helm('lint', chart, '--strict', '-f', valuesFile({ replicas: 'two' })).catch(
      (err: { stdout: string; stderr: string }) => err,
    );
    expect(`${bad.stdout}${bad.stderr}`).toMatch(/replicas.*(integer|number)/);
  });

  it('renders, with default values, the RBAC of deploy/rbac.yaml and the Deployment of deploy/deployment.yaml', async () => {
    const { stdout } = await helm(
      'template',
      'tokenplane-operator',
      chart,
      '--namespace',
      'tokenplane-system',
    );
    const objects = rendered(stdout);
    const same = (name: string) => name;
    expect(grants(objects, same)).toEqual(grants(yamlDocs('deploy/rbac.yaml'), same));

    const chartDeployment = objects.find((o) => o.kind === 'Deployment') as V1Deployment;
    const [plain] = yamlDocs('deploy/deployment.yaml') as V1Deployment[];
    const pod = (d: V1Deployment | undefined) => {
      const spec = structuredClone(d?.spec?.template.spec);
      const container = spec?.containers[0];
      // The chart adds its settings as flags and env; everything else is the same.
      if (container) {
        container.args = container.args?.filter((a) =>
          ['operator', '--metrics-port=8080'].includes(a),
        );
        container.env = container.env?.filter((e) => !['TOKENPLANE_LOG_LEVEL'].includes(e.name));
      }
      if (spec?.affinity) spec.affinity = undefined;
      return JSON.parse(JSON.stringify(spec));
    };
    expect(pod(chartDeployment)).toEqual(pod(plain));
    expect(chartDeployment.spec?.replicas).toBe(plain?.spec?.replicas);
    expect(chartDeployment.spec?.strategy).toEqual(plain?.spec?.strategy);
  });

  it('installs into the control plane with the values a user sets; the operator reconciles under the RBAC it installed', async () => {
    const release = await createTestNamespace('helm-release');
    const watched = await createTestNamespace('helm-watched');
    const name = `tp-${release.slice(-6)}`;
    const values = {
      image: { repository: 'registry.example/tokenplane', tag: '9.9.9', pullPolicy: 'Always' },
      replicas: 3,
      resources: {
        requests: { cpu: '20m', memory: '96Mi' },
        limits: { cpu: '500m', memory: '256Mi' },
      },
      platform: {
        endpoint: platform.url,
        credentialsSecret: 'platform-key',
        credentialsKey: 'key',
      },
      watchNamespace: watched,
      restartDebounceMs: 2000,
    };
    const { stdout } = await onCluster('install', release, name, chart, '-f', valuesFile(values));
    expect(stdout).toMatch(/STATUS: deployed/);
    const fullname = `${name}-tokenplane-operator`;

    const kc = adminKubeConfig();
    const deployment = await kc
      .makeApiClient(AppsV1Api)
      .readNamespacedDeployment({ name: fullname, namespace: release });
    const container = deployment.spec?.template.spec?.containers[0];
    expect(deployment.spec?.replicas).toBe(3);
    expect(container?.image).toBe('registry.example/tokenplane:9.9.9');
    expect(container?.imagePullPolicy).toBe('Always');
    expect(container?.resources).toEqual(values.resources);
    expect(container?.args).toContain(`--watch-namespace=${watched}`);
    expect(container?.args).toContain(`--lease-name=${fullname}`);
    expect(container?.args).toContain('--restart-debounce=2000');
    const env = Object.fromEntries((container?.env ?? []).map((e) => [e.name, e]));
    expect(env.TOKENPLANE_ENDPOINT?.value).toBe(platform.url);
    expect(env.TOKENPLANE_API_KEY?.valueFrom?.secretKeyRef).toEqual({
      name: 'platform-key',
      key: 'key',
    });

    // With a watch namespace the grants are a Role there, not cluster-wide.
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    const role = await rbac.readNamespacedRole({ name: fullname, namespace: watched });
    expect(role.rules?.map((r) => r.resources)).toContainEqual(['secrets']);
    await expect(rbac.readClusterRole({ name: fullname })).rejects.toMatchObject({ code: 404 });

    // The kubelet's part: the Secret the chart points at, the ServiceAccount's
    // token, the container's args and env — then the operator process itself.
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedSecret({
      namespace: release,
      body: { metadata: { name: 'platform-key' }, stringData: { key: platform.adminKey } },
    });
    const sa = await serviceAccountKubeconfig(sharedControlPlane(), {
      namespace: release,
      name: deployment.spec?.template.spec?.serviceAccountName as string,
    });
    const secret = await core.readNamespacedSecret({ name: 'platform-key', namespace: release });
    const metricsPort = await freePort();
    const args = (container?.args ?? []).map((a) =>
      a.startsWith('--metrics-port=') ? `--metrics-port=${metricsPort}` : a,
    );
    const cli = runCli([...args, '--kubeconfig', sa.path], {
      tty: false,
      env: {
        TOKENPLANE_ENDPOINT: env.TOKENPLANE_ENDPOINT?.value,
        TOKENPLANE_API_KEY: Buffer.from(secret.data?.key ?? '', 'base64').toString('utf8'),
        TOKENPLANE_LOG_LEVEL: env.TOKENPLANE_LOG_LEVEL?.value,
        POD_NAMESPACE: release,
        POD_NAME: `${fullname}-0`,
      },
    });
    running.push(cli);
    const r = resources(watched);
    await r.entity('helm-co', { kind: 'Reseller', tier: 'Advanced', defaultToken: false });
    await r.apiToken('helm-token', { entityRef: { name: 'helm-co' } });
    await r.readyToken('helm-token').catch((err: Error) => {
      throw new Error(`${err.message}\n${cli.output().slice(-3000)}`);
    });
    const written = await waitFor('the Secret', () => r.secret('helm-token'));
    expect((await platform.client.introspect(r.secretValue(written) as string)).active).toBe(true);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).status).toBe(200);
  });

  it('installs with default values the RBAC that deploy/rbac.yaml grants (names follow the release)', async () => {
    const release = await createTestNamespace('helm-default');
    const name = `tp-${release.slice(-6)}`;
    await onCluster('install', release, name, chart);
    const fullname = `${name}-tokenplane-operator`;
    const kc = adminKubeConfig();
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    const installed: KubernetesObject[] = [
      {
        kind: 'ServiceAccount',
        ...(await kc
          .makeApiClient(CoreV1Api)
          .readNamespacedServiceAccount({ name: fullname, namespace: release })),
      },
      { kind: 'ClusterRole', ...(await rbac.readClusterRole({ name: fullname })) },
      { kind: 'ClusterRoleBinding', ...(await rbac.readClusterRoleBinding({ name: fullname })) },
      {
        kind: 'Role',
        ...(await rbac.readNamespacedRole({
          name: `${fullname}-leader-election`,
          namespace: release,
        })),
      },
      {
        kind: 'RoleBinding',
        ...(await rbac.readNamespacedRoleBinding({
          name: `${fullname}-leader-election`,
          namespace: release,
        })),
      },
    ];
    const toDeploy = (n: string) => n.replace(fullname, 'tokenplane-operator');
    const plain = yamlDocs('deploy/rbac.yaml').map((o) => ({
      ...o,
      metadata: { ...o.metadata, namespace: o.metadata?.namespace && release },
      subjects: (o as { subjects?: object[] }).subjects?.map((s) => ({ ...s, namespace: release })),
    }));
    // The API server drops nothing and adds nothing to what deploy/rbac.yaml grants.
    expect(grants(JSON.parse(JSON.stringify(installed)), toDeploy)).toEqual(
      grants(plain as KubernetesObject[], (n) => n),
    );
    await onCluster('uninstall', release, name);
    await expect(rbac.readClusterRole({ name: fullname })).rejects.toMatchObject({ code: 404 });
  });
});

// deploy/helm/tokenplane (the platform chart) through real Helm against the
// real control plane: lint and schema, what it renders for SQLite and for
// PostgreSQL, the keys Secret it generates (strong, kept across upgrades and
// after uninstall), and the platform started the way its Deployment says
// (args, env from that Secret) answering on loopback. Pods on a real node are
// test/node's concern.
import { CoreV1Api, type V1Deployment, type V1Secret } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { apparentEntropyBits, MIN_CREDENTIAL_BITS } from '../../core/domain/index.ts';
import { type RunningCli, runCli } from '../harness/cli.ts';
import { Helm, rendered } from '../harness/helm.ts';
import { adminKubeConfig, createTestNamespace, sharedControlPlane } from '../harness/kube.ts';
import { freePort } from '../harness/ports.ts';

const chart = new URL('../../deploy/helm/tokenplane', import.meta.url).pathname;
const helm = new Helm();
const running: RunningCli[] = [];
afterAll(async () => {
  for (const cli of running.splice(0)) {
    cli.interrupt();
    await cli.done;
  }
  helm.close();
});

const kinds = (text: string) =>
  rendered(text)
    .map((o) => o.kind)
    .sort();
const deploymentOf = (text: string) =>
  rendered(text).find((o) => o.kind === 'Deployment') as V1Deployment;

describe('the platform chart', () => {
  it('passes helm lint --strict; its schema and its template refuse wrong values, saying what to set', async () => {
    const { stdout } = await helm.run('lint', chart, '--strict');
    expect(stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    const badType = await helm.refusal(
      'lint',
      chart,
      '-f',
      helm.valuesFile({ database: { type: 'mysql' } }),
    );
    expect(badType).toContain("at '/database/type': value must be one of 'sqlite', 'postgres'");
    const twoWriters = await helm.refusal('template', 't', chart, '--set', 'replicas=2');
    expect(twoWriters).toContain('database.type=sqlite runs exactly one replica');
  });

  it('renders SQLite on a claim with one replica, recreated, non-root on a read-only root filesystem', async () => {
    const { stdout } = await helm.run('template', 'tp', chart, '-n', 'tp');
    expect(kinds(stdout)).toEqual([
      'Deployment',
      'NetworkPolicy',
      'PersistentVolumeClaim',
      'PodDisruptionBudget',
      'Secret',
      'Service',
    ]);
    const deployment = deploymentOf(stdout);
    expect(deployment.spec?.replicas).toBe(1);
    expect(deployment.spec?.strategy?.type).toBe('Recreate');
    const pod = deployment.spec?.template.spec;
    expect(pod?.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532 });
    expect(pod?.automountServiceAccountToken).toBe(false);
    const [container] = pod?.containers ?? [];
    expect(container?.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
    });
    expect(container?.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(container?.livenessProbe?.httpGet?.path).toBe('/healthz');
    expect(pod?.volumes?.find((v) => v.name === 'data')?.persistentVolumeClaim?.claimName).toBe(
      'tp-tokenplane-data',
    );
  });

  it('renders PostgreSQL from a Secret with several replicas, rolled without a gap, and no claim', async () => {
    const values = helm.valuesFile({
      replicas: 3,
      database: { type: 'postgres', postgres: { urlSecret: 'db', urlKey: 'dsn' } },
    });
    const { stdout } = await helm.run('template', 'tp', chart, '-n', 'tp', '-f', values);
    expect(kinds(stdout)).not.toContain('PersistentVolumeClaim');
    const deployment = deploymentOf(stdout);
    expect(deployment.spec?.replicas).toBe(3);
    expect(deployment.spec?.strategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxUnavailable: 0, maxSurge: 1 },
    });
    const env = deployment.spec?.template.spec?.containers[0]?.env ?? [];
    expect(env.find((e) => e.name === 'TOKENPLANE_DATABASE_URL')?.valueFrom?.secretKeyRef).toEqual({
      name: 'db',
      key: 'dsn',
    });
  });

  it('passes single sign-on to the platform, the client secret from a Secret, and refuses half of it', async () => {
    const sso = {
      issuer: 'https://id.example.com/realms/acme',
      clientId: 'tokenplane-console',
      clientSecret: { name: 'tokenplane-oidc', key: 'clientSecret' },
    };
    const { stdout } = await helm.run(
      'template',
      'tp',
      chart,
      '-n',
      'tp',
      '-f',
      helm.valuesFile({ sso }),
    );
    const env = deploymentOf(stdout).spec?.template.spec?.containers[0]?.env ?? [];
    expect(env.filter((e) => e.name.startsWith('TOKENPLANE_OIDC_'))).toEqual([
      { name: 'TOKENPLANE_OIDC_ISSUER', value: sso.issuer },
      { name: 'TOKENPLANE_OIDC_CLIENT_ID', value: sso.clientId },
      {
        name: 'TOKENPLANE_OIDC_CLIENT_SECRET',
        valueFrom: { secretKeyRef: { name: 'tokenplane-oidc', key: 'clientSecret' } },
      },
    ]);
    const half = await helm.refusal(
      'template',
      'tp',
      chart,
      '-f',
      helm.valuesFile({ sso: { issuer: sso.issuer } }),
    );
    expect(half).toContain('set sso.clientId and sso.clientSecret.name');
    const plain = await helm.refusal(
      'lint',
      chart,
      '-f',
      helm.valuesFile({ sso: { ...sso, issuer: 'http://id.example.com' } }),
    );
    expect(plain).toContain("at '/sso/issuer'");
  });

  it('installs with strong generated keys, keeps them on upgrade and after uninstall, and the platform serves with them', async () => {
    const namespace = await createTestNamespace('platform-chart');
    const kubeconfig = ['--kubeconfig', sharedControlPlane().kubeconfigPath, '-n', namespace];
    await helm.run('install', 'tp', chart, ...kubeconfig);
    const core = adminKubeConfig().makeApiClient(CoreV1Api);
    const keys = async () => {
      const secret: V1Secret = await core.readNamespacedSecret({
        name: 'tp-tokenplane-keys',
        namespace,
      });
      return Object.fromEntries(
        Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
      );
    };
    const first = await keys();
    expect(apparentEntropyBits(first.adminKey ?? '')).toBeGreaterThanOrEqual(MIN_CREDENTIAL_BITS);
    expect(Buffer.from(first.encryptionKey ?? '', 'base64')).toHaveLength(32);

    await helm.run('upgrade', 'tp', chart, ...kubeconfig, '--set', 'logLevel=debug');
    expect(await keys()).toEqual(first);

    // The platform as the Deployment starts it, on loopback instead of every address.
    const { stdout } = await helm.run('get', 'manifest', 'tp', ...kubeconfig);
    const container = deploymentOf(stdout).spec?.template.spec?.containers[0];
    const port = await freePort();
    const args = (container?.args ?? []).map((a) =>
      a.startsWith('--host=')
        ? '--host=127.0.0.1'
        : a.startsWith('--port=')
          ? `--port=${port}`
          : a.startsWith('--data-dir=')
            ? `--data-dir=${helm.home}/data`
            : a,
    );
    const cli = runCli(args, {
      tty: false,
      env: { TOKENPLANE_ADMIN_KEY: first.adminKey, TOKENPLANE_ENCRYPTION_KEY: first.encryptionKey },
    });
    running.push(cli);
    await cli.waitFor(/platform listening on/, 60_000);
    const answer = await fetch(`http://127.0.0.1:${port}/v1/entities`, {
      headers: { authorization: `Bearer ${first.adminKey}` },
    });
    expect(answer.status).toBe(200);

    await helm.run('uninstall', 'tp', ...kubeconfig);
    expect(await keys()).toEqual(first);
    const claims = await core.listNamespacedPersistentVolumeClaim({ namespace });
    expect(claims.items.map((c) => c.metadata?.name)).toEqual(['tp-tokenplane-data']);
  });
});

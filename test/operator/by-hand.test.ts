// `tokenplane operator --kubeconfig PATH` started by a person, out of a cluster:
// the Lease goes where kubectl would put things (the context's namespace), and
// a Lease that cannot be taken for a reason a person must fix (no namespace,
// RBAC) is said once, in one readable line naming the fix, and on /readyz.
import { join } from 'node:path';
import { CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isJsonLine, type RunningCli, runCli } from '../harness/cli.ts';
import { writeKubeconfig } from '../harness/control-plane.ts';
import { adminKubeConfig, createTestNamespace, sharedControlPlane } from '../harness/kube.ts';
import { freePort } from '../harness/ports.ts';
import { waitFor } from '../harness/wait.ts';
import { installCrds, operatorKubeconfig, resources, startPlatform } from './helpers.ts';

let platform: Awaited<ReturnType<typeof startPlatform>>;
const running: RunningCli[] = [];

beforeAll(async () => {
  await installCrds();
  platform = await startPlatform();
});

afterEach(async () => {
  for (const cli of running.splice(0)) {
    cli.interrupt();
    await cli.done;
  }
});

afterAll(async () => {
  await platform?.close();
});

/** The admin's kubeconfig with `namespace` in its context, as `kubectl config set-context --namespace` leaves it. */
function adminKubeconfigIn(namespace: string): string {
  const cp = sharedControlPlane();
  const path = join(cp.dir, `admin-${namespace}.kubeconfig`);
  writeKubeconfig(path, {
    server: cp.server,
    caPem: cp.caPem,
    token: cp.adminToken,
    user: 'admin',
    namespace,
  });
  return path;
}

async function operator(kubeconfig: string, args: string[], tty: boolean) {
  const metricsPort = await freePort();
  const cli = runCli(
    [
      'operator',
      '--kubeconfig',
      kubeconfig,
      '--metrics-port',
      String(metricsPort),
      '--lease-duration',
      '3000',
      ...args,
    ],
    {
      tty,
      env: {
        TOKENPLANE_ENDPOINT: platform.url,
        TOKENPLANE_API_KEY: platform.adminKey,
        TOKENPLANE_LOG_FORMAT: '',
        POD_NAMESPACE: '',
        POD_NAME: 'by-hand',
      },
    },
  );
  running.push(cli);
  const readyz = async () => {
    const res = await fetch(`http://127.0.0.1:${metricsPort}/readyz`);
    return { status: res.status, body: await res.text() };
  };
  await waitFor('probes', async () => (await readyz().catch(() => undefined)) !== undefined);
  return { cli, readyz };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const holder = (namespace: string) =>
  adminKubeConfig()
    .makeApiClient(CoordinationV1Api)
    .readNamespacedLease({ name: 'tokenplane-operator', namespace })
    .then((l) => l.spec?.holderIdentity);

describe('tokenplane operator started by hand', () => {
  it("takes the Lease in the kubeconfig context's namespace and reconciles; readable lines on a terminal", async () => {
    const ns = await createTestNamespace('op-hand');
    const { cli } = await operator(adminKubeconfigIn(ns), ['--watch-namespace', ns], true);
    await waitFor(
      'the Lease in the context namespace',
      async () => (await holder(ns)) === 'by-hand',
    );
    const r = resources(ns);
    await r.entity('by-hand', { kind: 'Reseller', tier: 'Lite' });
    await r.readyEntity('by-hand');
    await cli.waitFor(/became leader/);
    expect(cli.output()).toMatch(
      new RegExp(
        `INFO \\(tokenplane-operator\\): watching ${ns}; leader-election Lease ${ns}/tokenplane-operator`,
      ),
    );
    expect(cli.lines().filter(isJsonLine)).toEqual([]);
    expect(cli.output()).not.toContain(platform.adminKey);
    expect(cli.output()).not.toMatch(/tpt_[0-9A-Za-z]{20,}/);
  });

  it('a missing Lease namespace: one line naming the fix, /readyz says it, and it recovers once created', async () => {
    const missing = `op-missing-${Date.now().toString(36)}`;
    const watch = await createTestNamespace('op-hand-watch');
    const { cli, readyz } = await operator(
      adminKubeconfigIn(watch),
      ['--namespace', missing, '--watch-namespace', watch],
      false,
    );
    const [line] = await cli.waitFor(/.*does not exist.*/);
    expect(line).toContain(`kubectl create namespace ${missing}`);
    expect(line).toContain('--namespace');
    const probe = await readyz();
    expect(probe.status).toBe(503);
    expect(probe.body).toContain(`namespace "${missing}" does not exist`);
    // Retries every 600 ms; the line is not repeated.
    await pause(4000);
    expect(cli.lines().filter((l) => l.includes('does not exist'))).toHaveLength(1);
    expect(cli.output()).not.toMatch(/HTTP 404/);
    expect(cli.lines().filter((l) => !isJsonLine(l))).toEqual([]);

    await adminKubeConfig()
      .makeApiClient(CoreV1Api)
      .createNamespace({ body: { metadata: { name: missing } } });
    await waitFor(
      'the Lease once the namespace exists',
      async () => (await holder(missing)) === 'by-hand',
    );
    await waitFor('ready', async () => (await readyz()).status === 200);
    await cli.waitFor(/lease reachable again/);
  });

  it('no RBAC for the Lease: one line naming the grant, /readyz says it', async () => {
    const ns = await createTestNamespace('op-hand-rbac');
    const { path } = await operatorKubeconfig();
    const { cli, readyz } = await operator(
      path,
      ['--namespace', ns, '--watch-namespace', ns],
      false,
    );
    const [line] = await cli.waitFor(/.*cannot take the leader-election Lease.*/);
    expect(line).toContain('forbidden');
    expect(line).toContain('deploy/rbac.yaml');
    const probe = await readyz();
    expect(probe.status).toBe(503);
    expect(probe.body).toMatch(/Grant get, create and update on leases/);
    await pause(3000);
    expect(
      cli.lines().filter((l) => l.includes('cannot take the leader-election Lease')),
    ).toHaveLength(1);
  });
});

// The operator as a real process (`node operator/main.ts`), under the deploy/
// ServiceAccount: killed at the worst moment, and two replicas electing a leader.
import { type ChildProcess, spawn } from 'node:child_process';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { answered, killingProxy } from '../harness/killing-proxy.ts';
import { adminKubeConfig } from '../harness/kube.ts';
import { freePort } from '../harness/ports.ts';
import { waitFor } from '../harness/wait.ts';
import {
  installCrds,
  namespaceWithRbac,
  operatorKubeconfig,
  resources,
  startPlatform,
} from './helpers.ts';

// `tokenplane operator`, the command a Deployment runs.
const cli = new URL('../../bin/tokenplane.js', import.meta.url).pathname;
let platform: Awaited<ReturnType<typeof startPlatform>>;
let kubeconfigPath = '';
const children: ChildProcess[] = [];

beforeAll(async () => {
  await installCrds();
  platform = await startPlatform();
  kubeconfigPath = (await operatorKubeconfig()).path;
});

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

afterAll(async () => {
  await platform?.close();
});

type Started = { child: ChildProcess; metricsPort: number; output: () => string };

async function startProcess(ns: string, name: string, endpoint: string): Promise<Started> {
  const metricsPort = await freePort();
  const child = spawn(
    process.execPath,
    [
      cli,
      'operator',
      '--kubeconfig',
      kubeconfigPath,
      '--namespace',
      ns,
      '--watch-namespace',
      ns,
      '--metrics-port',
      String(metricsPort),
      '--resync',
      '2000',
      '--lease-duration',
      '3000',
    ],
    {
      env: {
        ...process.env,
        TOKENPLANE_ENDPOINT: endpoint,
        TOKENPLANE_API_KEY: platform.adminKey,
        POD_NAME: name,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    out += d;
  });
  children.push(child);
  return { child, metricsPort, output: () => out };
}

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(name)) sum += Number(line.split(' ').pop());
  return sum;
}

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) =>
    child.exitCode !== null || child.signalCode !== null
      ? resolve()
      : child.once('exit', () => resolve()),
  );

describe('operator process', () => {
  it('killed between the platform create and the status write, then restarted, leaves exactly one token', async () => {
    const ns = await namespaceWithRbac('op-crash');
    const r = resources(ns);
    let victim: ChildProcess | undefined;
    // Killed before it sees the platform's answer to the token create.
    const proxy = await killingProxy(
      platform.url,
      answered(/\/v1\/entities\/[^/]+\/tokens$/, 201),
      () => victim?.kill('SIGKILL'),
    );
    try {
      const first = await startProcess(ns, 'crashy', proxy.url);
      victim = first.child;
      await r.entity('crash', { kind: 'Reseller', tier: 'Advanced', defaultToken: false });
      await r.readyEntity('crash');
      await r.apiToken('crash-token', { entityRef: { name: 'crash' } });
      await waitFor(
        'operator killed after the create',
        async () => proxy.kills > 0 && first.child.signalCode !== null,
      ).catch(async (err) => {
        throw new Error(
          `${err.message}\n${first.output().slice(-3000)}\n${JSON.stringify(await r.getToken('crash-token'))}`,
        );
      });
      const entityId = (await r.getEntity('crash'))?.status?.id as string;
      expect(await platform.client.listAllTokens(entityId)).toHaveLength(1);
      expect((await r.getToken('crash-token'))?.status?.tokenId).toBeUndefined();

      const second = await startProcess(ns, 'restarted', platform.url);
      const ready = await r.readyToken('crash-token');
      const tokens = await platform.client.listAllTokens(entityId);
      expect(tokens.map((t) => t.id)).toEqual([ready.status?.tokenId]);
      const secret = await waitFor('secret', () => r.secret('crash-token'));
      expect((await platform.client.introspect(r.secretValue(secret) as string)).active).toBe(true);
      second.child.kill('SIGTERM');
      await exited(second.child);
    } finally {
      proxy.server.close();
    }
  });

  it('killed between the platform rotation and the Secret write, then restarted, delivers that same rotation', async () => {
    const ns = await namespaceWithRbac('op-crash-rot');
    const r = resources(ns);
    let victim: ChildProcess | undefined;
    const proxy = await killingProxy(
      platform.url,
      answered(/\/v1\/tokens\/[^/]+\/rotate$/, 200),
      () => victim?.kill('SIGKILL'),
    );
    try {
      const first = await startProcess(ns, 'rotator', proxy.url);
      victim = first.child;
      await r.entity('rot', { kind: 'Reseller', tier: 'Lite', defaultToken: false });
      await r.apiToken('rot-token', {
        entityRef: { name: 'rot' },
        lifetime: '20s',
        renewBefore: '15s',
        rotationGracePeriod: '10m',
      });
      const issued = await r.readyToken('rot-token');
      const oldValue = r.secretValue(
        await waitFor('secret', () => r.secret('rot-token')),
      ) as string;
      await waitFor(
        'operator killed after the rotation',
        async () => proxy.kills > 0 && first.child.signalCode !== null,
      );
      await waitFor('rotation answer captured', async () => proxy.body.includes('"value"'));
      const rotatedValue = (JSON.parse(proxy.body) as { value: string }).value;
      expect(r.secretValue(await r.secret('rot-token'))).toBe(oldValue);

      await startProcess(ns, 'rotator-2', platform.url);
      const done = await waitFor('rotation recorded', async () => {
        const t = await r.getToken('rot-token');
        return (t?.status?.rotations ?? 0) >= 1 ? t : undefined;
      });
      expect(done.status?.tokenId).toBe(issued.status?.tokenId);
      // The replayed rotation (same Idempotency-Key) returned the value the platform issued before the crash.
      await waitFor(
        'secret holds the rotated value',
        async () => r.secretValue(await r.secret('rot-token')) === rotatedValue,
      );
      expect((await platform.client.introspect(rotatedValue)).active).toBe(true);
      expect((await platform.client.introspect(oldValue)).active).toBe(true);
      const entityId = (await r.getEntity('rot'))?.status?.id as string;
      expect(await platform.client.listAllTokens(entityId)).toHaveLength(1);
    } finally {
      proxy.server.close();
    }
  });

  it('two replicas: only the leader reconciles; when it is killed the other takes over', async () => {
    const ns = await namespaceWithRbac('op-le');
    const r = resources(ns);
    const leases = adminKubeConfig().makeApiClient(CoordinationV1Api);
    const a = await startProcess(ns, 'replica-a', platform.url);
    const b = await startProcess(ns, 'replica-b', platform.url);
    for (const replica of [a, b]) {
      await waitFor('replica serving probes', async () =>
        fetch(`http://127.0.0.1:${replica.metricsPort}/healthz`).then((res) => res.ok),
      );
    }
    const holder = async () =>
      (await leases.readNamespacedLease({ name: 'tokenplane-operator', namespace: ns })).spec
        ?.holderIdentity;
    const first = await waitFor('a leader', async () => {
      const h = await holder();
      return h === 'replica-a' || h === 'replica-b' ? h : undefined;
    });
    const [leader, standby] = first === 'replica-a' ? [a, b] : [b, a];

    await r.entity('le-one', { kind: 'Reseller', tier: 'Lite' });
    await r.readyEntity('le-one');
    await waitFor(
      'leader metrics',
      async () => (await metric(leader.metricsPort, 'tokenplane_operator_leader')) === 1,
    );
    expect(await metric(standby.metricsPort, 'tokenplane_operator_leader')).toBe(0);
    expect(await metric(leader.metricsPort, 'tokenplane_operator_reconcile_total')).toBeGreaterThan(
      0,
    );
    expect(await metric(standby.metricsPort, 'tokenplane_operator_reconcile_total')).toBe(0);
    expect((await fetch(`http://127.0.0.1:${standby.metricsPort}/readyz`)).status).toBe(200);

    leader.child.kill('SIGKILL');
    await exited(leader.child);
    await r.entity('le-two', { kind: 'Reseller', tier: 'Lite' });
    await r.readyEntity('le-two', 60_000);
    const next = first === 'replica-a' ? 'replica-b' : 'replica-a';
    expect(await holder()).toBe(next);
    expect(
      await metric(standby.metricsPort, 'tokenplane_operator_reconcile_total'),
    ).toBeGreaterThan(0);

    // A graceful stop releases the lease and exits cleanly.
    standby.child.kill('SIGTERM');
    await exited(standby.child);
    expect(standby.child.exitCode).toBe(0);
    expect(await holder(), standby.output().slice(-2000)).toBe('');
    expect(`${a.output()}${b.output()}`.match(/tpt_[0-9A-Za-z]{36}/)).toBeNull();
  });
});

/**
 * Debounced rollout restarts (operator/controllers/restarts.ts) with a fake
 * Kubernetes API: several new values within the window restart each workload
 * once; selectors resolve to the workloads they match; failures are reported
 * and counted, never thrown.
 */
import { describe, expect, it } from 'vitest';
import { RolloutRestarter } from '../../operator/controllers/restarts.ts';
import type { ApiTokenObject } from '../../operator/crds/schemas.ts';
import { createMetrics } from '../../operator/runtime/metrics.ts';

function token(targets: NonNullable<ApiTokenObject['spec']['rolloutRestartTargets']>) {
  return {
    apiVersion: 'tokenplane.dev/v1alpha1',
    kind: 'ApiToken',
    metadata: { name: 'api', namespace: 'ns', uid: 'u1', generation: 1 },
    spec: {
      entityRef: { name: 'acme' },
      status: 'Active',
      adoptDefaultToken: false,
      deletionPolicy: 'Delete',
      rolloutRestartTargets: targets,
    },
  } as ApiTokenObject;
}

function setup(windowMs: number, failing = new Set<string>()) {
  const restarted: string[] = [];
  const events: string[] = [];
  const metrics = createMetrics();
  const restarter = new RolloutRestarter({
    kube: {
      async restartWorkload(ns, kind, name) {
        if (failing.has(name)) throw Object.assign(new Error('nope'), { code: 404 });
        restarted.push(`${ns}/${kind}/${name}`);
      },
      async listWorkloads(_ns, kind, selector) {
        return selector === 'tier=web' && kind === 'Deployment' ? ['web-a', 'web-b'] : [];
      },
    },
    events: {
      normal: (_o, reason, note) => events.push(`${reason}: ${note}`),
      warning: (_o, reason, note) => events.push(`${reason}: ${note}`),
    },
    metrics,
    windowMs,
    now: () => new Date(),
  });
  const count = async (outcome: string) =>
    (await metrics.rolloutRestarts.get()).values.find((v) => v.labels.outcome === outcome)?.value ??
    0;
  return { restarter, restarted, events, count };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('rollout restarts', () => {
  it('restart each workload once for several new values within the window', async () => {
    const { restarter, restarted, count } = setup(150);
    const obj = token([
      { kind: 'Deployment', name: 'api' },
      { kind: 'Deployment', selector: { matchLabels: { tier: 'web' } } },
    ]);
    for (let i = 0; i < 4; i++) await restarter.request(obj, 'api-secret');
    expect(restarted).toEqual([]); // still waiting for more
    await sleep(400);
    expect(restarted.sort()).toEqual([
      'ns/Deployment/api',
      'ns/Deployment/web-a',
      'ns/Deployment/web-b',
    ]);
    expect(await count('restarted')).toBe(3);
    // a later value restarts again
    await restarter.request(obj, 'api-secret');
    await restarter.flush();
    expect(restarted).toHaveLength(6);
  });

  it('with no window restart at once, for every new value', async () => {
    const { restarter, restarted } = setup(0);
    await restarter.request(
      token([
        { kind: 'StatefulSet', name: 'db' },
        { kind: 'Deployment', name: 'web-a' },
        { kind: 'Deployment', selector: { matchLabels: { tier: 'web' } } },
      ]),
      's',
    );
    await restarter.flush();
    expect(restarted).toEqual([
      'ns/StatefulSet/db',
      'ns/Deployment/web-a',
      'ns/Deployment/web-a',
      'ns/Deployment/web-b',
    ]);
  });

  it('report a workload that cannot be restarted, count it, and go on', async () => {
    const { restarter, restarted, events, count } = setup(0, new Set(['gone']));
    await restarter.request(
      token([
        { kind: 'Deployment', name: 'gone' },
        { kind: 'Deployment', name: 'api' },
      ]),
      's',
    );
    await restarter.flush();
    expect(restarted).toEqual(['ns/Deployment/api']);
    expect(events.some((e) => e.startsWith('RolloutRestartFailed') && e.includes('HTTP 404'))).toBe(
      true,
    );
    expect(await count('failed')).toBe(1);
  });
});

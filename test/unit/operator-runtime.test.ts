import { ApiException, type KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { rotationPlan } from '../../core/external/index.ts';
import {
  desiredSecret,
  digest,
  previousUntil,
  previousValue,
  secretUpToDate,
  viewSecret,
} from '../../operator/controllers/secret.ts';
import type { ApiTokenObject } from '../../operator/crds/schemas.ts';
import { outcome, setCondition } from '../../operator/runtime/conditions.ts';
import { LeaderElector } from '../../operator/runtime/leader-election.ts';
import { exponentialRateLimiter, runWorkers, WorkQueue } from '../../operator/runtime/workqueue.ts';
import { tokenObj } from './operator-fakes.ts';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('work queue', () => {
  it('de-duplicates keys waiting in the queue', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('a');
    q.add('b');
    expect(q.length).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
  });

  it('never hands a key being processed to a second worker, and re-queues it on done', async () => {
    const q = new WorkQueue();
    q.add('a');
    const first = await q.get();
    q.add('a');
    expect(q.length).toBe(0);
    let second: string | undefined;
    void q.get().then((k) => {
      second = k;
    });
    await tick();
    expect(second).toBeUndefined();
    q.done(first as string);
    await tick();
    expect(second).toBe('a');
  });

  it('backs off exponentially per key and forget resets it', () => {
    const limiter = exponentialRateLimiter(10, 100);
    expect([limiter.when('a'), limiter.when('a'), limiter.when('a'), limiter.when('b')]).toEqual([
      10, 20, 40, 10,
    ]);
    expect([limiter.when('a'), limiter.when('a')]).toEqual([80, 100]);
    limiter.forget('a');
    expect(limiter.when('a')).toBe(10);
  });

  it('addAfter keeps the earliest deadline', async () => {
    const q = new WorkQueue();
    q.addAfter('a', 10_000);
    q.addAfter('a', 10);
    expect(await q.get()).toBe('a');
  });

  it('keys back from a delay (resyncs) queue behind keys added now, unless added now too', async () => {
    const q = new WorkQueue();
    q.addAfter('resync-1', 1);
    q.addAfter('resync-2', 1);
    await new Promise((r) => setTimeout(r, 30));
    q.add('event');
    q.add('resync-2'); // a watch event for a key that waits behind: brought forward, once
    expect(q.length).toBe(3);
    const order = [await q.get(), await q.get(), await q.get()];
    expect(order).toEqual(['event', 'resync-2', 'resync-1']);
    expect(q.length).toBe(0);
    for (const key of order) q.done(key as string);
    q.add('next');
    expect(await q.get()).toBe('next');
  });

  it('runs bounded workers, maps results, survives a throwing handler, and drains in-flight work on shutdown', async () => {
    const q = new WorkQueue(exponentialRateLimiter(1, 10));
    let inFlight = 0;
    let peak = 0;
    const seen: string[] = [];
    let booms = 0;
    let errs = 0;
    const running = runWorkers(
      q,
      2,
      async (key) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await tick();
        inFlight--;
        seen.push(key);
        if (key === 'boom' && booms++ < 2) throw new Error('boom');
        if (key === 'err' && errs++ < 2) return { error: new Error('x') };
        return {};
      },
      () => {},
    );
    for (const k of ['a', 'b', 'c', 'd', 'boom', 'err']) q.add(k);
    const count = (k: string) => seen.filter((x) => x === k).length;
    for (let i = 0; i < 400 && (count('boom') < 3 || count('err') < 3); i++) await tick();
    q.shutDown();
    await running;
    expect(peak).toBeLessThanOrEqual(2);
    expect(count('boom')).toBe(3);
    expect(count('err')).toBe(3);
    expect(inFlight).toBe(0);
  });
});

describe('conditions', () => {
  it('keeps lastTransitionTime unless the status flips', () => {
    const t0 = new Date('2026-01-01T00:00:00Z');
    const t1 = new Date('2026-01-01T01:00:00Z');
    const a = outcome(undefined, 1, { ok: false, reason: 'QuotaExceeded', message: 'full' }, t0);
    const b = outcome(a, 1, { ok: false, reason: 'QuotaExceeded', message: 'full' }, t1);
    expect(b).toEqual(a);
    const c = outcome(b, 2, { ok: true }, t1);
    expect(c.find((x) => x.type === 'Ready')).toMatchObject({
      status: 'True',
      reason: 'Available',
      lastTransitionTime: '2026-01-01T01:00:00Z',
      observedGeneration: 2,
    });
    expect(
      setCondition(c, { type: 'Synced', status: 'True', reason: 'ReconcileSuccess' }, 2, t0),
    ).toHaveLength(2);
  });
});

describe('rotation plan', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  it('is due renewBefore ahead of expiry, default a third of the lifetime, grace defaults to renewBefore', () => {
    const plan = rotationPlan({ lifetime: '90m' }, '2026-01-01T00:40:00Z', now);
    expect(plan.renewBeforeMs).toBe(30 * 60_000);
    expect(plan.due).toBe(false);
    expect(plan.gracePeriodSeconds).toBe(1800);
    expect(
      rotationPlan({ lifetime: '90m', renewBefore: '45m' }, '2026-01-01T00:40:00Z', now).due,
    ).toBe(true);
    expect(rotationPlan({ lifetime: '1h', gracePeriod: '30s' }, null, now)).toMatchObject({
      due: false,
      renewalTime: null,
      gracePeriodSeconds: 30,
    });
  });
});

describe('secret', () => {
  const obj: ApiTokenObject = {
    ...tokenObj({ secretTemplate: { labels: { team: 'a' }, annotations: { note: 'x' } } }),
    metadata: { name: 'ci', namespace: 'ns', uid: 'u1' },
  };
  const content = {
    tokenId: 't1',
    entityId: 'e1',
    endpoint: 'http://p',
    type: 'secret',
    hint: 'tpt_…abcd',
  };

  it('carries the keys, labels, owner and template; is up to date until the value or metadata changes', () => {
    const secret = desiredSecret(obj, content, 'tpt_value');
    expect(Object.keys(secret.data).sort()).toEqual([
      'endpoint',
      'entityId',
      'token',
      'tokenId',
      'type',
    ]);
    expect(secret.metadata.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'tokenplane',
      team: 'a',
    });
    expect(secret.metadata.ownerReferences[0]).toMatchObject({
      kind: 'ApiToken',
      uid: 'u1',
      controller: true,
    });
    expect(JSON.stringify(secret.metadata)).not.toContain('tpt_value');
    expect(secret.metadata.annotations['tokenplane.dev/value-digest']).toBe(digest('tpt_value'));
    const view = viewSecret(secret);
    expect(JSON.stringify(view)).not.toContain(Buffer.from('tpt_value').toString('base64'));
    expect(secretUpToDate(view, obj, content, new Date())).toBe(true);
    expect(secretUpToDate(view, obj, { ...content, hint: 'tpt_…zzzz' }, new Date())).toBe(false);
    expect(secretUpToDate(view, obj, { ...content, endpoint: 'http://x' }, new Date())).toBe(false);
    const edited = {
      ...secret,
      data: { ...secret.data, token: Buffer.from('other').toString('base64') },
    };
    expect(secretUpToDate(viewSecret(edited), obj, content, new Date())).toBe(false);
    expect(secretUpToDate(undefined, obj, content, new Date())).toBe(false);
  });

  it('keeps the value a rotation replaced as previousToken while it verifies, then drops it', () => {
    const before = desiredSecret(obj, content, 'tpt_old');
    const rotatedAt = new Date('2026-12-01T10:00:00Z');
    const until = new Date(rotatedAt.getTime() + 60_000);
    const kept = previousValue(before, rotatedAt, until);
    expect(kept).toEqual({ value: 'tpt_old', until });
    const during = desiredSecret(obj, content, 'tpt_new', kept);
    const text = (v: string | undefined) => Buffer.from(v ?? '', 'base64').toString('utf8');
    expect(text(during.data.token)).toBe('tpt_new');
    expect(text(during.data.previousToken)).toBe('tpt_old');
    expect(during.metadata.annotations['tokenplane.dev/previous-token-until']).toBe(
      until.toISOString(),
    );
    expect(JSON.stringify(during.metadata)).not.toContain('tpt_old');
    // later passes carry it until the grace ends; then the Secret is rewritten without it
    const later = new Date(until.getTime() - 1000);
    expect(previousValue(during, later)).toEqual(kept);
    expect(previousUntil(viewSecret(during), later)).toEqual(until);
    expect(secretUpToDate(viewSecret(during), obj, content, later)).toBe(true);
    const after = new Date(until.getTime() + 1);
    expect(previousValue(during, after)).toBeUndefined();
    expect(previousUntil(viewSecret(during), after)).toBeUndefined();
    expect(secretUpToDate(viewSecret(during), obj, content, after)).toBe(false);
    expect(Object.keys(desiredSecret(obj, content, 'tpt_new').data)).not.toContain('previousToken');
  });
});

describe('leader election', () => {
  function fakeLeases() {
    let lease: { metadata: object; spec: Record<string, unknown> } | undefined;
    const calls = { read: 0, create: 0, replace: 0 };
    const api = {
      async readNamespacedLease() {
        calls.read++;
        if (!lease) throw new ApiException(404, 'not found', '', {});
        return structuredClone(lease);
      },
      async createNamespacedLease({ body }: { body: typeof lease }) {
        calls.create++;
        lease = structuredClone(body);
        return lease;
      },
      async replaceNamespacedLease({ body }: { body: typeof lease }) {
        calls.replace++;
        lease = structuredClone(body);
        return lease;
      },
    };
    const kc = { makeApiClient: () => api } as unknown as KubeConfig;
    return { kc, calls, lease: () => lease };
  }

  it('uses its defaults when options are passed as undefined (no hot loop), leads, and releases on stop', async () => {
    const { kc, calls, lease } = fakeLeases();
    let started = 0;
    const elector = new LeaderElector({
      kc,
      namespace: 'ns',
      name: 'l',
      identity: 'me',
      leaseDurationMs: undefined,
      renewDeadlineMs: undefined,
      retryPeriodMs: undefined,
      log: pino({ level: 'silent' }),
      onStartedLeading: () => started++,
      onStoppedLeading: () => {},
    });
    const running = elector.run();
    await new Promise((r) => setTimeout(r, 300));
    expect(started).toBe(1);
    expect(elector.isLeader).toBe(true);
    expect(calls.read + calls.create + calls.replace).toBeLessThanOrEqual(3);
    expect(lease()?.spec).toMatchObject({ holderIdentity: 'me', leaseDurationSeconds: 15 });
    expect(String(lease()?.spec.renewTime)).toMatch(/\.\d{6}Z$/);
    await elector.stop();
    await running;
    expect(lease()?.spec.holderIdentity).toBe('');
  });

  it('does not take a lease another holder keeps renewing', async () => {
    const { kc, lease } = fakeLeases();
    const other = new LeaderElector({
      kc,
      namespace: 'ns',
      name: 'l',
      identity: 'other',
      retryPeriodMs: 20,
      log: pino({ level: 'silent' }),
      onStartedLeading: () => {},
      onStoppedLeading: () => {},
    });
    const me = new LeaderElector({
      kc,
      namespace: 'ns',
      name: 'l',
      identity: 'me',
      retryPeriodMs: 20,
      log: pino({ level: 'silent' }),
      onStartedLeading: () => {},
      onStoppedLeading: () => {},
    });
    const a = other.run();
    await new Promise((r) => setTimeout(r, 50));
    const b = me.run();
    await new Promise((r) => setTimeout(r, 200));
    expect(other.isLeader).toBe(true);
    expect(me.isLeader).toBe(false);
    expect(lease()?.spec.holderIdentity).toBe('other');
    await Promise.all([other.stop(), me.stop()]);
    await Promise.all([a, b]);
  });
});

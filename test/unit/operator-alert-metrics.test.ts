// The operator's series that the alert rules read (deploy/helm/tokenplane-operator/rules):
// Ready per object, the renewal time (its absence = no rotation policy) and the
// usage share per ApiToken — set by a reconcile, dropped when the object goes.
import { describe, expect, it } from 'vitest';
import { reconcileApiToken } from '../../operator/controllers/apitoken/index.ts';
import { reconcileEntity } from '../../operator/controllers/entity.ts';
import type { Metrics } from '../../operator/runtime/metrics.ts';
import { cacheOf, ENTITY, entityObj, fakeContext, NS, tokenObj } from './operator-fakes.ts';

type Gauge = Metrics['ready'] | Metrics['tokenRenewal'] | Metrics['tokenUsage'];
const series = async (gauge: Gauge) =>
  (await gauge.get()).values.map(({ labels, value }) => ({ ...labels, value }));

describe('the series the alerts read', () => {
  it('a rotating ApiToken: Ready 1, its renewal time and expiry; gone from the cache, no series', async () => {
    const f = fakeContext([entityObj]);
    const token = f.platform.newToken(ENTITY, 'ci');
    const obj = tokenObj({ lifetime: '720h', renewBefore: '48h', tokenId: token.id });
    const ctx = { ...f.ctx, tokenCache: cacheOf(obj) };
    await reconcileApiToken(ctx, NS, 'ci');
    const { metrics } = f.ctx;
    expect(await series(metrics.ready)).toEqual([
      { kind: 'ApiToken', namespace: NS, name: 'ci', value: 1 },
    ]);
    const { renewalTime } = f.statuses.at(-1) as { renewalTime: string };
    expect(await series(metrics.tokenRenewal)).toEqual([
      { namespace: NS, name: 'ci', value: Date.parse(renewalTime) / 1000 },
    ]);
    expect(await series(metrics.tokenUsage)).toEqual([]);

    await reconcileApiToken({ ...ctx, tokenCache: { get: () => undefined } }, NS, 'ci');
    for (const gauge of [metrics.ready, metrics.tokenRenewal, metrics.tokenExpiry])
      expect(await series(gauge)).toEqual([]);
  });

  it('an ApiToken without a rotation policy has an expiry and no renewal time; its usage share is reported', async () => {
    const f = fakeContext([entityObj]);
    const token = f.platform.newToken(ENTITY, 'ci', {
      usageLimit: { limit: 200, period: 'day' },
      usage: { used: 180, limit: 200, period: 'day', resetsAt: '2026-06-02T00:00:00.000Z' },
    });
    const obj = tokenObj({ tokenId: token.id, usageLimit: { limit: 200, period: 'Day' } });
    await reconcileApiToken({ ...f.ctx, tokenCache: cacheOf(obj) }, NS, 'ci');
    expect(await series(f.ctx.metrics.tokenRenewal)).toEqual([]);
    expect((await f.ctx.metrics.tokenExpiry.get()).values).toHaveLength(1);
    expect(await series(f.ctx.metrics.tokenUsage)).toEqual([
      { namespace: NS, name: 'ci', value: 0.9 },
    ]);
  });

  it('Ready=False is 0, for an ApiToken and for an Entity; an object being deleted has no series', async () => {
    const f = fakeContext([entityObj, tokenObj()]);
    f.secrets.set('ci', { metadata: { name: 'ci', namespace: NS }, data: { password: 'eA==' } });
    await reconcileApiToken(f.ctx, NS, 'ci'); // someone else's Secret: SecretConflict
    const parentless = {
      ...entityObj,
      metadata: { ...entityObj.metadata, name: 'child' },
      spec: { ...entityObj.spec, parentRef: { name: 'missing' } },
      status: undefined,
    };
    await reconcileEntity({ ...f.ctx, entityCache: { get: () => parentless } }, NS, 'child');
    expect(await series(f.ctx.metrics.ready)).toEqual([
      { kind: 'ApiToken', namespace: NS, name: 'ci', value: 0 },
      { kind: 'Entity', namespace: NS, name: 'child', value: 0 },
    ]);

    const deleting = {
      ...parentless,
      metadata: { ...parentless.metadata, deletionTimestamp: '2026-06-01T00:00:00Z' },
    };
    await reconcileEntity({ ...f.ctx, entityCache: { get: () => deleting } }, NS, 'child');
    expect(await series(f.ctx.metrics.ready)).toEqual([
      { kind: 'ApiToken', namespace: NS, name: 'ci', value: 0 },
    ]);
  });
});

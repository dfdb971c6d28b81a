/**
 * Revocation across servers on one PostgreSQL database (README "Lifecycle events, leak response, revocation across servers"): a change
 * made on server A is refused on server B at once — long before B's cache
 * lifetime, which these tests set to an hour (a value a rotation replaced
 * included). A server cut off from the
 * database answers from its cache only within the cache lifetime, then
 * refuses (503) instead of answering from stale data, and resynchronises
 * after it reconnects.
 */
import { describe, expect, it } from 'vitest';
import type { RunningServer } from '../../platform/main.ts';
import { waitFor } from '../harness/wait.ts';
import { Api, isProblem, type Platform, startPlatform, startReplica } from './helpers.ts';
import { tcpProxy } from './tcp-proxy.ts';

const HOUR = 3_600_000;

async function pair(options: { databaseUrl?: string } = {}) {
  const a = await startPlatform('postgres', { verifyCacheTtlMs: HOUR });
  const b = await startReplica(a, { verifyCacheTtlMs: HOUR, ...options });
  return { a, b, apiB: new Api(b.url, b.adminKey) };
}

async function advancedToken(p: Platform) {
  const e = (
    await p.api.post('/v1/entities', { name: 'Spread', kind: 'customer', tier: 'advanced' })
  ).body;
  return { entity: e, token: e.defaultToken };
}

/** Waits until B answers `status` for the token's metric read. */
const refusedOn = (api: Api, value: string, metric: string, status: number) =>
  waitFor(
    `${status} on B`,
    async () => (await api.metric(value, metric)).status === status,
    10_000,
  );

describe('revocation across servers on PostgreSQL', () => {
  it('reaches the other server at once: disable, delete, rotate, permissions, tier', async () => {
    const { a, b, apiB } = await pair();
    try {
      const { entity, token } = await advancedToken(a);
      const read = (v: string, m = 'requests') => apiB.metric(v, m);
      expect((await read(token.value)).status).toBe(200); // cached on B now
      expect((await read(token.value, 'latency_p99')).status).toBe(200);

      // permissions: a narrower scope on A is enforced on B
      await a.api.patch(`/v1/tokens/${token.id}`, { scopes: ['metrics:core:read'] });
      await refusedOn(apiB, token.value, 'latency_p99', 403);
      await a.api.patch(`/v1/tokens/${token.id}`, { scopes: ['metrics:read'] });
      await waitFor(
        'scope back',
        async () => (await read(token.value, 'latency_p99')).status === 200,
      );

      // tier: a downgrade on A takes the extensive set away on B
      await a.api.patch(`/v1/entities/${entity.id}`, { tier: 'lite' });
      await refusedOn(apiB, token.value, 'latency_p99', 403);
      expect(isProblem(await read(token.value, 'latency_p99'), 'tier-insufficient', 403)).toBe(
        true,
      );
      await a.api.patch(`/v1/entities/${entity.id}`, { tier: 'advanced' });

      // disable, then enable again
      await a.api.patch(`/v1/tokens/${token.id}`, { status: 'disabled' });
      await refusedOn(apiB, token.value, 'requests', 401);
      await a.api.patch(`/v1/tokens/${token.id}`, { status: 'active' });
      await refusedOn(apiB, token.value, 'requests', 200);

      // rotation without grace: the old value stops on B, the new one works
      const rotated = (await a.api.post(`/v1/tokens/${token.id}/rotate`, {})).body;
      await refusedOn(apiB, token.value, 'requests', 401);
      expect((await read(rotated.value)).status).toBe(200);

      // deletion
      await a.api.delete(`/v1/tokens/${token.id}`);
      await refusedOn(apiB, rotated.value, 'requests', 401);
      expect(
        Number(
          /tokenplane_revocation_listener_up (\d)/.exec(
            (await apiB.get('/metrics', { key: null })).text,
          )?.[1],
        ),
      ).toBe(1);
    } finally {
      await b.close();
      await a.close();
    }
  });

  it('replaced values: every grace holds on the other server, and a leak report ends one there at once', async () => {
    const { a, b, apiB } = await pair();
    try {
      const { token } = await advancedToken(a);
      const rotate = async () =>
        (await a.api.post(`/v1/tokens/${token.id}/rotate`, { gracePeriodSeconds: 600 })).body;
      const first = await rotate();
      const second = await rotate();
      for (const value of [token.value, first.value, second.value]) {
        expect((await apiB.metric(value, 'requests')).status).toBe(200); // cached on B now
      }
      const report = await a.api.post('/v1/token-leaks', [
        { token: token.value, type: 'tokenplane_api_token', url: null, source: 'content' },
      ]);
      expect(report.body[0].label).toBe('true_positive');
      await refusedOn(apiB, token.value, 'requests', 401);
      expect((await apiB.metric(first.value, 'requests')).status).toBe(200);
      expect((await apiB.metric(second.value, 'requests')).status).toBe(200);
    } finally {
      await b.close();
      await a.close();
    }
  });

  it('a server cut off from the database answers from cache only within its lifetime, then resyncs', async () => {
    const base = await startPlatform('postgres');
    const url = new URL(base.databaseUrl as string);
    const proxy = await tcpProxy(Number(url.port));
    url.port = String(proxy.port);
    let b: RunningServer | undefined;
    try {
      const ttl = 2000;
      b = await startReplica(base, { databaseUrl: url.toString(), verifyCacheTtlMs: ttl });
      const apiB = new Api(b.url, b.adminKey);
      const e = (
        await base.api.post('/v1/entities', { name: 'Cut', kind: 'customer', tier: 'advanced' })
      ).body;
      const kept = (await base.api.post(`/v1/entities/${e.id}/tokens`, { name: 'kept' })).body;
      const revoked = e.defaultToken;
      expect((await apiB.metric(revoked.value, 'requests')).status).toBe(200);
      expect((await apiB.metric(kept.value, 'requests')).status).toBe(200);

      proxy.cut();
      await base.api.patch(`/v1/tokens/${revoked.id}`, { status: 'disabled' });
      // within the cache lifetime B still answers from its cache …
      expect((await apiB.metric(kept.value, 'requests')).status).toBe(200);
      // … and past it, it refuses rather than answer from stale data
      base.clock.advance(ttl + 1);
      const stale = await apiB.metric(revoked.value, 'requests');
      expect(isProblem(stale, 'unavailable', 503)).toBe(true);
      expect(isProblem(await apiB.metric(kept.value, 'requests'), 'unavailable', 503)).toBe(true);
      expect((await apiB.get('/metrics', { key: null })).text).toMatch(
        /tokenplane_revocation_listener_up 0/,
      );

      proxy.restore();
      await waitFor('the listener to reconnect', async () =>
        /tokenplane_revocation_listener_up 1/.test(
          (await apiB.get('/metrics', { key: null })).text,
        ),
      );
      await refusedOn(apiB, revoked.value, 'requests', 401);
      expect((await apiB.metric(kept.value, 'requests')).status).toBe(200);
      // and it hears changes again
      await base.api.patch(`/v1/tokens/${kept.id}`, { status: 'disabled' });
      await refusedOn(apiB, kept.value, 'requests', 401);
    } finally {
      await b?.close();
      await proxy.close();
      await base.close();
    }
  });
});

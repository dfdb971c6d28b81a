/**
 * Two platform processes' worth of servers on one database (SQLite file or
 * PostgreSQL): quota holds across them, a change made on one is seen by the
 * other's verifier within its cache TTL, and lastUsedAt is written in batches,
 * not once per request.
 */
import { describe, expect, it } from 'vitest';
import type { RunningServer } from '../../platform/main.ts';
import { Api, advancedEntity, ENGINES, isProblem, startPlatform, startReplica } from './helpers.ts';

describe.each(ENGINES)('replicas on %s', (engine) => {
  it('share quota, and see each other’s revocations within the cache TTL', async () => {
    const a = await startPlatform(engine, { verifyCacheTtlMs: 5000 });
    let b: RunningServer | undefined;
    try {
      b = await startReplica(a, { verifyCacheTtlMs: 5000 });
      const apiB = new Api(b.url, b.adminKey);
      expect(b.adminKey).toBe(a.server.adminKey);

      const e = await advancedEntity(a, 'Shared');
      const replies = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 ? a.api : apiB).post(`/v1/entities/${e.id}/tokens`, { name: `t${i}` }),
        ),
      );
      expect(replies.filter((r) => r.status === 201)).toHaveLength(5);
      expect(replies.filter((r) => isProblem(r, 'quota-exceeded', 409))).toHaveLength(15);

      const t = replies.find((r) => r.status === 201)?.body;
      expect((await apiB.metric(t.value, 'requests')).status).toBe(200); // cached on B now
      expect((await a.api.patch(`/v1/tokens/${t.id}`, { status: 'disabled' })).status).toBe(200);
      expect(isProblem(await a.api.metric(t.value, 'requests'), 'unauthorized', 401)).toBe(true);
      // B may still answer from its cache, but not beyond the TTL
      a.clock.advance(5001);
      expect(isProblem(await apiB.metric(t.value, 'requests'), 'unauthorized', 401)).toBe(true);
    } finally {
      await b?.close();
      await a.close();
    }
  });

  it('records lastUsedAt in memory and writes it in one batch', async () => {
    const p = await startPlatform(engine, { lastUsedFlushMs: 3_600_000 });
    try {
      const e = (await p.api.post('/v1/entities', { name: 'Batch', kind: 'customer' })).body;
      const db = p.server.app.tokenplane.context.store.db;
      const stored = async () =>
        (await db.query('SELECT last_used_at FROM tokens WHERE id = $1', [e.defaultToken.id]))[0]
          ?.last_used_at;
      for (let i = 0; i < 20; i++) {
        expect((await p.api.metric(e.defaultToken.value, 'requests')).status).toBe(200);
      }
      expect(await stored()).toBeNull(); // no write per request
      expect((await p.api.get(`/v1/tokens/${e.defaultToken.id}`)).body.lastUsedAt).not.toBeNull();
      await p.server.app.tokenplane.context.verifier.flush();
      expect(await stored()).toBe(
        (await p.api.get(`/v1/tokens/${e.defaultToken.id}`)).body.lastUsedAt,
      );
    } finally {
      await p.close();
    }
  });
});

/**
 * Durability: a restart on the same data dir (and the same database) keeps every
 * object; reveal, verification, grace periods, access keys and idempotent
 * replays still work; generated keys are private files that never reach a log.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENGINES, isProblem, startPlatform } from './helpers.ts';

describe.each(ENGINES)('restart on %s', (engine) => {
  it('keeps every object; reveal and verification still work', async () => {
    const p = await startPlatform(engine);
    try {
      const adminKey = p.server.adminKey;
      // generated keys: private files, logged by path only
      for (const file of ['admin-key', 'encryption-key']) {
        const mode = statSync(join(p.dataDir, file)).mode & 0o777;
        expect(mode.toString(8)).toBe('600');
        expect(p.logs.text).toContain(join(p.dataDir, file));
      }
      expect(p.logs.text).not.toContain(adminKey);

      const e = (
        await p.api.post('/v1/entities', { name: 'Durable', kind: 'reseller', tier: 'advanced' })
      ).body;
      const child = (
        await p.api.post('/v1/entities', { name: 'Kid', kind: 'customer', parentId: e.id })
      ).body;
      const headers = { 'idempotency-key': 'durable-1' };
      const t = (await p.api.post(`/v1/entities/${e.id}/tokens`, { name: 'kept' }, { headers }))
        .body;
      const rotated = (
        await p.api.post(`/v1/tokens/${e.defaultToken.id}/rotate`, { gracePeriodSeconds: 3600 })
      ).body;
      const key = (
        await p.api.post(`/v1/entities/${e.id}/access-keys`, { name: 'ops', role: 'admin' })
      ).body;
      expect((await p.api.metric(t.value, 'requests')).status).toBe(200);
      const usedAt = (await p.api.get(`/v1/tokens/${t.id}`)).body.lastUsedAt;
      expect(usedAt).not.toBeNull();

      await p.restart();

      expect(p.server.adminKey).toBe(adminKey);
      const again = await p.api.get(`/v1/entities/${e.id}`);
      expect(again.body).toMatchObject({
        id: e.id,
        name: 'Durable',
        tier: 'advanced',
        tokenCount: 2,
      });
      expect((await p.api.get(`/v1/entities/${child.id}`)).body.parentId).toBe(e.id);
      const tokens = (await p.api.get(`/v1/entities/${e.id}/tokens`)).body.items;
      expect(tokens.map((x: { id: string }) => x.id).sort()).toEqual(
        [e.defaultToken.id, t.id].sort(),
      );
      // lastUsedAt was flushed on close
      expect((await p.api.get(`/v1/tokens/${t.id}`)).body.lastUsedAt).toBe(usedAt);

      expect((await p.api.post(`/v1/tokens/${t.id}/reveal`)).body.value).toBe(t.value);
      expect((await p.api.post(`/v1/tokens/${e.defaultToken.id}/reveal`)).body.value).toBe(
        rotated.value,
      );
      expect((await p.api.metric(t.value, 'requests')).status).toBe(200);
      expect((await p.api.metric(rotated.value, 'latency_p95')).status).toBe(200);
      expect((await p.api.metric(e.defaultToken.value, 'requests')).status).toBe(200); // in grace
      expect((await p.api.metric(child.defaultToken.value, 'requests')).status).toBe(200);
      p.clock.advance(3601_000);
      expect(
        isProblem(await p.api.metric(e.defaultToken.value, 'requests'), 'unauthorized', 401),
      ).toBe(true);

      expect((await p.api.get(`/v1/entities/${child.id}`, { key: key.key })).status).toBe(200);
      const replay = await p.api.post(`/v1/entities/${e.id}/tokens`, { name: 'kept' }, { headers });
      expect(replay.status).toBe(201);
      expect(replay.body).toMatchObject({ id: t.id, value: t.value });
      expect((await p.api.get(`/v1/entities/${e.id}`)).body.tokenCount).toBe(2);
      const trail = (await p.api.get(`/v1/audit-events?entityId=${e.id}`)).body.items;
      expect(trail.map((x: { action: string }) => x.action)).toContain('token.rotate');

      for (const secret of [adminKey, t.value, rotated.value, key.key, e.defaultToken.value]) {
        expect(p.logs.text.includes(secret)).toBe(false);
      }
    } finally {
      await p.close();
    }
  });

  it('refuses to start with another encryption key than the database was created with', async () => {
    const p = await startPlatform(engine, { encryptionKey: 'first-encryption-key-0123456789' });
    try {
      await p.api.post('/v1/entities', { name: 'K', kind: 'customer' });
      await p.server.close();
      const { startServer } = await import('../../platform/main.ts');
      await expect(
        startServer({
          port: 0,
          dataDir: p.dataDir,
          ...(p.databaseUrl ? { databaseUrl: p.databaseUrl } : {}),
          env: {},
          logger: false,
          encryptionKey: 'second-encryption-key-9876543210',
        }),
      ).rejects.toThrow(
        /The encryption key \(TOKENPLANE_ENCRYPTION_KEY\) is not the key .* was created with/,
      );
      await p.restart(); // the right key still works
      expect((await p.api.get('/v1/entities')).body.items).toHaveLength(1);
    } finally {
      await p.close();
    }
  });
});

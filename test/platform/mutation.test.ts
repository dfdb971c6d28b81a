/**
 * The one mutation path (platform/server/mutation.ts) on real databases: a
 * change, its audit event and its webhook outbox rows commit together or not
 * at all. The outbox is broken with a trigger that refuses its inserts: the
 * create then fails whole — no token, no success in the audit trail, no
 * delivery — and succeeds whole once the trigger is gone. The events a
 * route announces beyond its own object (an entity's default token on create,
 * its tokens on delete) reach the webhooks too.
 */
import { describe, expect, it } from 'vitest';
import type { SqlDriver } from '../../platform/storage/sql.ts';
import { waitFor } from '../harness/wait.ts';
import { advancedEntity, ENGINES, type Platform, startPlatform } from './helpers.ts';
import { startReceiver } from './receiver.ts';

async function breakOutbox(db: SqlDriver): Promise<() => Promise<void>> {
  if (db.dialect === 'postgres') {
    await db.run(
      `CREATE FUNCTION outbox_down() RETURNS trigger LANGUAGE plpgsql AS
         $$ BEGIN RAISE EXCEPTION 'outbox down'; END $$`,
    );
    await db.run(
      'CREATE TRIGGER outbox_down BEFORE INSERT ON webhook_deliveries FOR EACH ROW EXECUTE FUNCTION outbox_down()',
    );
    return async () => {
      await db.run('DROP TRIGGER outbox_down ON webhook_deliveries');
    };
  }
  await db.run(
    `CREATE TRIGGER outbox_down BEFORE INSERT ON webhook_deliveries
       BEGIN SELECT RAISE(ABORT, 'outbox down'); END`,
  );
  return async () => {
    await db.run('DROP TRIGGER outbox_down');
  };
}

async function tokenCreates(p: Platform, entityId: string) {
  const trail = await p.api.get(`/v1/audit-events?entityId=${entityId}&limit=500`);
  return (trail.body.items as { action: string; outcome: string; targetId: string | null }[])
    .filter((e) => e.action === 'token.create')
    .map((e) => `${e.outcome} ${e.targetId ?? '-'}`);
}

describe.each(ENGINES)('one mutation path on %s', (engine) => {
  it('commits a change with its audit event and outbox rows, or none of them', async () => {
    const p = await startPlatform(engine, { webhookPollMs: 50 });
    const receiver = await startReceiver();
    try {
      const entity = await advancedEntity(p, 'Acme', 'reseller');
      const hook = await p.api.post(`/v1/entities/${entity.id}/webhooks`, {
        url: receiver.url,
        events: ['token.created'],
      });
      expect(hook.status).toBe(201);
      const repair = await breakOutbox(p.server.app.tokenplane.context.store.db);

      const refused = await p.api.post(`/v1/entities/${entity.id}/tokens`, { name: 'ci' });
      expect(refused.status).toBe(500);
      expect((await p.api.get(`/v1/entities/${entity.id}/tokens`)).body.items).toEqual([]);
      expect(await tokenCreates(p, entity.id)).toEqual(['failure -']);

      await repair();
      const made = await p.api.post(`/v1/entities/${entity.id}/tokens`, { name: 'ci' });
      expect(made.status).toBe(201);
      expect(await tokenCreates(p, entity.id)).toEqual(['failure -', `success ${made.body.id}`]);
      await waitFor('the token.created delivery', () => receiver.received.length >= 1);
      const deliveries = await p.api.get(`/v1/webhooks/${hook.body.id}/deliveries`);
      expect(deliveries.body.items).toHaveLength(1);
      expect(receiver.received.map((r) => JSON.parse(r.body).data.token.id)).toEqual([
        made.body.id,
      ]);
    } finally {
      await receiver.close();
      await p.close();
    }
  });

  it("announces an entity's default token when the entity is created, and its tokens when it is deleted", async () => {
    const p = await startPlatform(engine, { webhookPollMs: 50 });
    const receiver = await startReceiver();
    try {
      const parent = (
        await p.api.post('/v1/entities', { name: 'Acme', kind: 'reseller', tier: 'advanced' })
      ).body;
      await p.api.post(`/v1/entities/${parent.id}/webhooks`, {
        url: receiver.url,
        events: ['token.created', 'token.deleted'],
      });
      const child = (
        await p.api.post('/v1/entities', { name: 'Shop', kind: 'customer', parentId: parent.id })
      ).body;
      expect((await p.api.delete(`/v1/entities/${child.id}`)).status).toBe(204);
      await waitFor('two deliveries', () => receiver.received.length >= 2);
      const events = receiver.received.map((r) => JSON.parse(r.body));
      expect(events.map((e) => [e.type, e.data.entityId, e.data.token.id])).toEqual([
        ['token.created', child.id, child.defaultToken.id],
        ['token.deleted', child.id, child.defaultToken.id],
      ]);
      expect(receiver.received.map((r) => r.body).join()).not.toContain(child.defaultToken.value);
    } finally {
      await receiver.close();
      await p.close();
    }
  });
});
